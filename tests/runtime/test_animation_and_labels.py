"""Animations in the format their extension names (decoded back), JPEG stills, and the labels that
fill output paths: {step} over fused edits, {name}/{index}/{alpha} in export paths, chain names in grids."""
from __future__ import annotations

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image

from styleclip_runtime.io.animation import AnimationOptions, encode_animation
from styleclip_runtime.execution.executor import column_label
from styleclip_runtime.io.latents import load_latents
from styleclip_runtime.io.stills import read_still_metadata

from .test_executor import GLOBAL, make_plan, run

ANIM = {"duration": 0.25, "size": 48, "labels": True, "pingpong": False}


def sweep_plan(saves: list[dict]) -> dict:
    return make_plan([
        {"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [3], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "smile", "params": GLOBAL}],
         "sweep": {"param": "alpha", "values": [-4.0, 0.0, 4.0]}},
        *[{"kind": "save", "input": "s2", **s} for s in saves],
    ])


def test_animations_follow_their_extension_and_parameters(env, tmp_path) -> None:
    plan = sweep_plan([
        {"mode": "animation", "path": "a/{name}.mp4", "params": ANIM},
        {"mode": "animation", "path": "a/{name}.gif", "params": ANIM},
        {"mode": "animation", "path": "a/{name}_pp.gif", "params": {**ANIM, "pingpong": True}},
        {"mode": "animation", "path": "a/{name}.webp", "params": {**ANIM, "size": 40}},
        {"mode": "image", "path": "a/{name}_{alpha}.jpg"},
        {"mode": "grid", "path": "a/grid.jpeg"},
    ])
    _, report = run(env, plan, tmp_path)
    out = tmp_path / "a"
    frames = imageio_ffmpeg.read_frames(str(out / "seed3.mp4"))
    meta = next(frames)
    decoded = [np.frombuffer(f, np.uint8).reshape(48, 48, 3) for f in frames]
    assert meta["codec"] == "h264" and meta["size"] == (48, 48) and len(decoded) == 3
    assert abs(meta["fps"] - 4.0) < 1e-6
    # the frames are the sweep in order: alpha -4 and +4 differ, away from the label corner
    assert np.abs(decoded[0][24:].astype(int) - decoded[2][24:]).mean() > 1.0
    with Image.open(out / "seed3.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (48, 48) and gif.info["duration"] == 250
    with Image.open(out / "seed3_pp.gif") as gif:
        assert gif.n_frames == 4  # forward, then back (-4, 0, 4, 0)
    with Image.open(out / "seed3.webp") as webp:
        assert webp.format == "WEBP" and webp.n_frames == 3 and webp.size == (40, 40)
    for name in ("seed3_-4.jpg", "seed3_4.jpg", "grid.jpeg"):
        data = (out / name).read_bytes()
        assert data[:3] == b"\xff\xd8\xff", name
    assert read_still_metadata(out / "seed3_4.jpg")["recipe"] == "# recipe text\n"
    assert len(report.outputs) == 8


def test_frame_labels_are_drawn_only_when_asked() -> None:
    frames = [np.full((16, 16, 3), 128, np.uint8)] * 2
    labelled = encode_animation(".gif", frames, ["alpha=1", "alpha=2"], AnimationOptions(size=64))
    plain = encode_animation(".gif", frames, ["alpha=1", "alpha=2"], AnimationOptions(size=64, labels=False))
    from io import BytesIO

    with Image.open(BytesIO(labelled)) as a, Image.open(BytesIO(plain)) as b:
        first_a, first_b = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    assert (first_b == 128).all() and (first_a[:10, :30] != 128).any()
    with pytest.raises(ValueError):
        encode_animation(".avi", frames)


def test_step_counts_fused_edits_and_export_fills_placeholders(env, tmp_path) -> None:
    fused = [{"text": "curly hair", "params": GLOBAL}, {"text": "smile", "params": GLOBAL}]
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [1, 2], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": fused, "sweep": None},
        {"kind": "edit", "input": "s2", "engine": "global", "edits": [{"text": "glasses", "params": GLOBAL}],
         "sweep": {"param": "alpha", "values": [1.0, 2.0]}},
        {"kind": "save", "input": "s3", "mode": "image", "path": "o/{name}_{step}_{alpha}.png"},
        {"kind": "export", "input": "s3", "path": "o/{name}_{index}_{alpha}.pt"},
        {"kind": "export", "input": "s3", "path": "o/{subject}_all.pt"},
    ])
    ex, report = run(env, plan, tmp_path)
    names = sorted(p.name for p in report.outputs)
    assert names == sorted(["seed1_3_1.png", "seed1_3_2.png", "seed2_3_1.png", "seed2_3_2.png",
                            "seed1_0_1.pt", "seed1_0_2.pt", "seed2_1_1.pt", "seed2_1_2.pt", "p_all.pt"])
    items = ex.memo[plan["steps"][2]["hash"]]
    g = ex.models.generator
    fingerprint = ex.models.fingerprints().get("generator")

    def load(name: str):
        return load_latents(tmp_path / "o" / name, g.n_latent, g.style_dim, fingerprint)

    one = load("seed2_1_2.pt")
    item = next(it for it in items if it.name == "seed2" and it.labels["alpha"] == 2.0)
    assert one.names == ["seed2"] and torch.equal(one.wplus[0], item.wplus)
    assert load("p_all.pt").wplus.shape[0] == 4
    # a grid column names the whole chain, not only its last edit
    ex2, _ = run(env, make_plan([
        {"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [1], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": fused, "sweep": None},
        {"kind": "edit", "input": "s2", "engine": "global", "edits": [{"text": "glasses", "params": GLOBAL}],
         "sweep": None},
    ]), tmp_path / "b")
    last = list(ex2.memo.values())[-1][0]
    assert column_label(last) == "curly hair + smile, then glasses"
