"""ArcFace IR-SE50: official key layout, StyleCLIP's crop and pooling, identity similarity."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from styleclip_runtime.models.arcface import ArcFaceBackbone, IdentityNet, face_crop, load_arcface_checkpoint
from styleclip_runtime.models.checkpoints import CheckpointFormatError, CheckpointMismatchError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "official-formats"


def fixture_state(seed: int = 0) -> dict[str, torch.Tensor]:
    keys = json.loads((FIXTURES / "arcface-ir-se50.keys.json").read_text())["keys"]
    torch.manual_seed(seed)
    out = {}
    for key, shape in keys.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0)
        elif key.endswith("running_var"):
            out[key] = torch.empty(shape).uniform_(1.0, 1.1)
        elif len(shape) >= 2:
            bound = math.sqrt(3.0 / math.prod(shape[1:]))
            out[key] = torch.empty(shape).uniform_(-bound, bound)
        else:
            out[key] = torch.empty(shape).uniform_(-0.1, 0.1)
    return out


@pytest.fixture(scope="module")
def official_file(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    state = fixture_state()
    path = tmp_path_factory.mktemp("arcface") / "model_ir_se50.pth"
    torch.save(state, path)
    return path, state


@pytest.fixture(scope="module")
def net() -> IdentityNet:
    """The same class at a small width: behaviour checks do not need 43M parameters."""
    torch.manual_seed(0)
    return IdentityNet(ArcFaceBackbone(units=(1, 1, 1, 1), widths=(16, 32, 64, 128), embed_dim=64))


def test_official_file_loads_strictly(official_file):
    path, state = official_file
    ident = load_arcface_checkpoint(path)
    loaded = ident.backbone.state_dict()
    for key in ("input_layer.0.weight", "body.23.res_layer.5.fc1.weight", "output_layer.3.weight",
                "output_layer.4.running_var"):
        assert torch.equal(loaded[key], state[key])
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    e = ident.embed(x)
    assert e.shape == (1, 512) and torch.isfinite(e).all()


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("output_layer.3.bias"), r"1 missing key.*output_layer\.3\.bias"),
    (lambda s: s.__setitem__("output_layer.5.weight", torch.zeros(3)), r"1 unexpected key.*output_layer\.5\.weight"),
    (lambda s: s.__setitem__("output_layer.3.weight", torch.zeros(512, 512)),
     r"output_layer\.3\.weight expected \[512, 25088\] found \[512, 512\]"),
])
def test_bad_keys_are_named(tmp_path, change, message):
    state = fixture_state()
    change(state)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError, match=f"(?s){message}"):
        load_arcface_checkpoint(path)


def test_truncated_file_fails_clearly(official_file, tmp_path):
    data = official_file[0].read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointFormatError, match="truncated or corrupt"):
        load_arcface_checkpoint(path)


def adaptive_avg_pool_by_hand(a: np.ndarray, out: int) -> np.ndarray:
    """Adaptive average pooling of a (H, W) array: bin i spans [floor(i*H/out), ceil((i+1)*H/out))."""
    h, w = a.shape
    res = np.zeros((out, out))
    for i in range(out):
        r0, r1 = (i * h) // out, -((-(i + 1) * h) // out)
        for j in range(out):
            c0, c1 = (j * w) // out, -((-(j + 1) * w) // out)
            res[i, j] = a[r0:r1, c0:c1].mean()
    return res


def test_crop_and_pool_match_a_hand_computation():
    rng = np.random.default_rng(0)
    img = rng.uniform(-1, 1, (1, 3, 512, 512)).astype(np.float32)
    got = face_crop(torch.from_numpy(img))[0, 1].double().numpy()
    # 512 -> 256 is a mean over 2x2 blocks, then rows 35:223, cols 32:220, then 188 -> 112
    pooled = img[0, 1].reshape(256, 2, 256, 2).mean(axis=(1, 3))
    want = adaptive_avg_pool_by_hand(pooled[35:223, 32:220].astype(np.float64), 112)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_pixels_outside_the_crop_do_not_matter(net):
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    y = x.clone()
    y[:, :, :35] = 1.0   # rows above the crop
    y[:, :, :, 220:] = -1.0  # columns right of it
    with torch.no_grad():
        torch.testing.assert_close(net.embed(x), net.embed(y))
        z = x.clone()
        z[:, :, 100:120, 100:120] = 1.0
        assert not torch.allclose(net.embed(x), net.embed(z))


def test_embeddings_are_unit_deterministic_and_batch_independent(net):
    x = torch.rand(3, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        e = net.embed(x)
        again = net.embed(x)
        alone = net.embed(x[1:2])
    torch.testing.assert_close(e.norm(dim=1), torch.ones(3))
    assert e.shape == (3, 64)
    assert torch.equal(e, again)
    torch.testing.assert_close(alone[0], e[1], rtol=1e-5, atol=1e-5)
    net.train()  # must stay in eval: BatchNorm statistics, no dropout
    with torch.no_grad():
        torch.testing.assert_close(net.embed(x), e)


def test_similarity_is_cosine_and_differentiable_in_the_image(net):
    a = torch.rand(2, 3, 256, 256) * 2 - 1
    b = torch.rand(2, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net.similarity(a, a), torch.ones(2))
        sab, sba = net.similarity(a, b), net.similarity(b, a)
        torch.testing.assert_close(sab, sba)
        torch.testing.assert_close(sab, (net.embed(a) * net.embed(b)).sum(1))
        torch.testing.assert_close(net.similarity(a, net.embed(b)), sab)
    x = a.clone().requires_grad_(True)
    loss = (1 - net.similarity(x, net.embed(b).detach())).mean()
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in net.parameters())
