"""toon-G: the z rule, the progressive synthesis, and the shipped generator.

The shipped generator is loaded the way the runtime loads it (the model-set
YAML) and its samples are read by the independent judge.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from styleclip_runtime.models.stylegan2 import Generator, GeneratorConfig
from styleclip_zoo.toon.attributes import FAMILIES, Attributes, sample_attributes
from styleclip_zoo.toon.detail_mask import detail_mask
from styleclip_zoo.toon.evaluate_generator import confident_mask, judge_probabilities, psnr, rule_agreement
from styleclip_zoo.toon.pool import RenderPool
from styleclip_zoo.toon.renderer import render_batch
from styleclip_zoo.toon.train_generator import (
    TOON_G_CONFIG,
    FaceCode,
    GeneratorTraining,
    fit_face_code_to_mapping,
    image_loss,
    lr_at,
    rule_nuisance_seeds,
    rule_slices,
    seed_phase_a,
    synthesize_to,
    z_for,
    z_rule,
)

TOON_DIR = Path(__file__).resolve().parents[2] / "runtime" / "modelsets" / "toon"


# ------------------------------------------------------------------ z rule
def test_rule_reads_the_argmax_of_each_family_slice():
    sl = rule_slices(8)
    z = torch.zeros(1, 128)
    z[0, sl["hair_style"].start + FAMILIES["hair_style"].index("mohawk")] = 3.0
    z[0, sl["glasses"].start + FAMILIES["glasses"].index("sunglasses")] = 2.0
    z[0, sl["nuisance"].start + 5] = 2.5
    z[0, sl["background"].start] = 0.0  # Phi(0) = 0.5
    (attrs,), (seed,) = z_rule(z)
    assert attrs.hair_style == "mohawk"
    assert attrs.glasses == "sunglasses"
    assert seed == 7_005
    # z is pixel-normalised first: a scaled z reads the same
    (scaled,), _ = z_rule(z * 7.0)
    assert scaled.hair_style == "mohawk"
    assert attrs.background == pytest.approx(0.5, abs=1e-6)


def test_rule_frequencies_are_uniform_per_family():
    z = torch.randn(6_000, 128, generator=torch.Generator().manual_seed(1))
    attrs, seeds = z_rule(z)
    for family, values in FAMILIES.items():
        counts = {v: 0 for v in values}
        for a in attrs:
            counts[a.value(family)] += 1
        expected = len(attrs) / len(values)
        for v, c in counts.items():
            assert abs(c - expected) < 0.15 * expected, (family, v, c, expected)
    hues = torch.tensor([a.background for a in attrs])
    assert 0.0 <= float(hues.min()) and float(hues.max()) < 1.0
    assert abs(float(hues.mean()) - 0.5) < 0.02
    assert len(set(seeds)) == 8


def test_z_for_inverts_the_rule():
    rng = np.random.default_rng(3)
    attrs = [sample_attributes(rng) for _ in range(300)]
    layouts = [int(k) for k in rng.integers(0, 8, size=300)]
    z = z_for(attrs, layouts, torch.Generator().manual_seed(0))
    back, seeds = z_rule(z)
    for a, b in zip(attrs, back):
        assert {f: a.value(f) for f in FAMILIES} == {f: b.value(f) for f in FAMILIES}
        assert b.background == pytest.approx(a.background, abs=1e-5)
    assert seeds == [rule_nuisance_seeds()[k] for k in layouts]
    # the free coordinates stay random: two draws for one face differ
    again = z_for(attrs[:1], layouts[:1], torch.Generator().manual_seed(1))
    assert not torch.allclose(again, z[:1])


def test_rule_needs_enough_coordinates():
    with pytest.raises(ValueError, match="coordinates"):
        z_rule(torch.randn(2, 16))


# ------------------------------------------------------- training helpers
def test_stage_schedule_and_learning_rate():
    cfg = GeneratorTraining(stages=((16, 10), (32, 20), (64, 5)), rule_layouts_stage=2, face_code_stage=None)
    assert cfg.steps_a == 35
    assert cfg.rule_layouts_from == 30
    assert not cfg.in_rule_layouts(29) and cfg.in_rule_layouts(30)
    assert GeneratorTraining().rule_layouts_from == 4_990  # the shipped run's rule-layout stage
    assert GeneratorTraining().face_code_from == 8_990  # and its five face-code stages
    assert GeneratorTraining().steps_a == 23_990 and GeneratorTraining().in_face_codes(23_989)
    assert GeneratorTraining(rule_layouts_stage=None).rule_layouts_from is None
    face = GeneratorTraining(stages=((16, 10), (32, 20), (64, 5), (64, 5)), rule_layouts_stage=None, face_code_stage=3)
    assert not face.in_face_codes(34) and face.in_face_codes(35)
    assert not face.in_rule_layouts(34) and face.in_rule_layouts(35)  # face codes exist for the rule's layouts only
    with pytest.raises(ValueError, match="face_code_stage"):
        GeneratorTraining(stages=((16, 10),), rule_layouts_stage=None, face_code_stage=1)
    assert cfg.stage_at(0) == (16, 0, 10)
    assert cfg.stage_at(10) == (32, 10, 30)
    assert cfg.stage_at(34) == (64, 30, 35)
    # warm-up restarts at each stage's first step, cosine ends at 10 %
    assert lr_at(10, 30, 1.0, 4, first=10) == pytest.approx(0.25)
    assert lr_at(13, 30, 1.0, 4, first=10) == pytest.approx(1.0)
    assert lr_at(30, 30, 1.0, 4, first=10) == pytest.approx(0.1)


def test_face_code_features_name_each_value_layout_and_hue():
    face = FaceCode(128, n_nuisance=8)
    layouts = rule_nuisance_seeds(8)
    a = Attributes(hair_style="mohawk", expression="surprised", glasses="round", background=0.25)
    f = face.features([a], [layouts[3]])[0]
    assert f.shape == (28 + 8 + 6,)
    offset = 0
    for family, values in FAMILIES.items():  # one indicator per family, at the face's value
        block = f[offset:offset + len(values)]
        assert block.sum() == 1.0 and int(block.argmax()) == values.index(a.value(family))
        offset += len(values)
    assert f[offset:offset + 8].tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    assert f[-6:].tolist() == pytest.approx([0.0, -1.0, 0.0, 1.0, 0.0, -1.0], abs=1e-6)  # cos, sin of 2 pi k / 4
    with pytest.raises(ValueError):
        face.features([a], [123])  # not a rule layout: no code


def test_face_code_fit_recovers_a_linear_code():
    """``fit`` is least squares: codes that are a sum of per-value vectors are
    reproduced exactly, and a face's code changes with its expression alone."""
    rng = np.random.default_rng(0)
    attrs = [sample_attributes(rng) for _ in range(300)]
    seeds = [int(s) for s in rng.choice(rule_nuisance_seeds(8), size=300)]
    truth = FaceCode(16, 8)
    with torch.no_grad():
        codes = truth(attrs, seeds)
    face = FaceCode(16, 8)
    assert face.fit(attrs, seeds, codes) == pytest.approx(1.0, abs=1e-6)
    with torch.no_grad():
        assert torch.allclose(face(attrs, seeds), codes, atol=1e-4)
        smile = face([attrs[0].with_(expression="smile")], seeds[:1])
        sad = face([attrs[0].with_(expression="sad")], seeds[:1])
    assert float((smile - sad).abs().max()) > 1e-3


def _faces_and_table(n: int = 64) -> tuple[FaceCode, list[Attributes], list[int], torch.Tensor]:
    rng = np.random.default_rng(1)
    attrs = [sample_attributes(rng) for _ in range(n)]
    seeds = [int(s) for s in rng.choice(rule_nuisance_seeds(8), size=n)]
    torch.manual_seed(0)
    face = FaceCode(128, 8)
    return face, attrs, seeds, face.features(attrs, seeds)


def _step_to(face: FaceCode, attrs: list[Attributes], seeds: list[int], **change: str) -> torch.Tensor:
    """The code difference from each face to the same face with ``change``."""
    with torch.no_grad():
        return face([a.with_(**change) for a in attrs], seeds) - face(attrs, seeds)


def test_family_accuracy_reads_which_value_a_code_is_nearest():
    face, attrs, seeds, x = _faces_and_table()
    assert face.family_accuracy(torch.zeros(len(attrs), 128), x) == [1.0] * len(FAMILIES)
    # past the bisector toward red hair: the faces not already red now read red; the other families hold
    toward = _step_to(face, attrs, seeds, hair_color="red")
    not_red = sum(a.hair_color != "red" for a in attrs) / len(attrs)
    accuracy = dict(zip(FAMILIES, face.family_accuracy(0.6 * toward, x)))
    assert accuracy["hair_color"] == pytest.approx(1 - not_red)
    assert all(accuracy[f] == 1.0 for f in FAMILIES if f != "hair_color")
    assert face.family_accuracy(0.4 * toward, x) == [1.0] * len(FAMILIES)  # not yet past it


def test_margin_loss_grows_toward_another_value_and_weighs_families_alike():
    face, attrs, seeds, x = _faces_and_table()
    toward = _step_to(face, attrs, seeds, expression="sad")
    losses = [float(face.margin_loss(t * toward, x)) for t in (0.0, 0.3, 0.6, 1.0)]
    assert losses == sorted(losses) and losses[3] > 2 * losses[0]
    # a family whose vectors are 10x smaller (a small footprint in the image) loses as much
    # from the same relative step: the squared error would barely see it
    before = float(face.margin_loss(0.6 * toward, x))
    block = face.family_blocks()[list(FAMILIES).index("expression")]
    with torch.no_grad():
        face.linear.weight[:, block] *= 0.1
    small = _step_to(face, attrs, seeds, expression="sad")
    assert float(small.square().mean()) < 0.05 * float(toward.square().mean())
    assert float(face.margin_loss(0.6 * small, x)) == pytest.approx(before, rel=0.05)


def test_detail_mask_covers_what_expression_and_eyes_change():
    seed = rule_nuisance_seeds()[2]
    mask = detail_mask(seed)[0].bool()
    assert 0.03 < float(mask.float().mean()) < 0.2  # eyes, brows and mouth: a small part of the face
    base = Attributes(hair_style="curly", hair_color="red", expression="neutral", eyes="open", glasses="none",
                      beard="beard", skin="dark", background=0.3)
    for change in ({"expression": "smile"}, {"expression": "surprised"}, {"eyes": "closed"}):
        a, b = render_batch([base, base.with_(**change)], [seed, seed]).astype(int)
        changed = torch.from_numpy(np.abs(a - b).max(-1) > 24)
        assert changed.any()
        assert bool((changed & ~mask).sum() == 0), change  # every changed pixel is inside the mask
    # hair, a beard or a new background never change inside-mask-only pixels: the mask is not everything
    a, b = render_batch([base, base.with_(hair_style="long")], [seed, seed]).astype(int)
    assert bool((torch.from_numpy(np.abs(a - b).max(-1) > 24) & ~mask).any())


def test_weighted_image_loss_counts_masked_pixels_more():
    real = torch.zeros(1, 3, 8, 8)
    fake = real.clone()
    fake[..., 2, 2] = 1.0
    weight = torch.ones(1, 1, 8, 8)
    weight[..., 2, 2] = 9.0
    plain = image_loss(fake, real, 0.0)
    assert float(image_loss(fake, real, 0.0, weight)) == pytest.approx(9 * float(plain))
    assert float(image_loss(fake, real, 1.0, torch.ones(1, 1, 8, 8))) == pytest.approx(float(image_loss(fake, real, 1.0)))


def test_rule_agreement_counts_the_values_the_rule_asked_for():
    z = torch.randn(60, 128, generator=torch.Generator().manual_seed(3))
    attrs, _ = z_rule(z)
    probs = {f: torch.nn.functional.one_hot(torch.tensor([v.index(a.value(f)) for a in attrs]), len(v)).float()
             for f, v in FAMILIES.items()}
    assert all(x == 1.0 for x in rule_agreement(probs, z).values())
    wrong = dict(probs, expression=probs["expression"].roll(1, dims=1))  # every face read one value off
    assert rule_agreement(probs | wrong, z)["expression"] == 0.0
    # eyes are not scored where the rule asked for sunglasses
    hidden = [i for i, a in enumerate(attrs) if a.glasses == "sunglasses"]
    blind = probs["eyes"].clone()
    blind[hidden] = blind[hidden].flip(1)
    assert rule_agreement(dict(probs, eyes=blind), z)["eyes"] == 1.0 and hidden


def test_pool_can_keep_to_the_rule_layouts():
    pool = RenderPool(40, np.random.default_rng(0), nuisance_seeds=rule_nuisance_seeds())
    pool.refresh(10)
    _, attrs, seeds = pool.sample_with_seeds(30)
    assert set(seeds) <= set(rule_nuisance_seeds())
    # the pool's images are the renders of its (attributes, seed) pairs
    i = 3
    expected = render_batch([pool.attrs[i]], [pool.seeds[i]])[0]
    assert np.array_equal(pool.images[i].permute(1, 2, 0).numpy(), expected)


def test_partial_synthesis_is_the_skip_image_below_full_size():
    torch.manual_seed(0)
    cfg = GeneratorConfig(size=32, style_dim=16, n_mlp=1, channel_multiplier=0.25, channel_max=16, lr_mlp=1.0)
    gen = Generator.from_config(cfg).eval()
    w = torch.randn(2, 16)
    with torch.no_grad():
        full = synthesize_to(gen, w, 32)
        assert torch.allclose(full, gen(w, noise_mode="const"))
        low = synthesize_to(gen, w, 8)
        assert low.shape == (2, 3, 8, 8)
        # the 8 px image does not depend on the 16 and 32 px layers
        gen.convs[2].conv.weight.add_(1.0)
        gen.to_rgbs[2].bias.add_(1.0)
        assert torch.equal(synthesize_to(gen, w, 8), low)
        assert not torch.allclose(gen(w, noise_mode="const"), full)


def test_psnr_of_known_error():
    a = torch.zeros(1, 3, 4, 4)
    b = torch.full((1, 3, 4, 4), 0.2)  # 0.1 in [0, 1] units -> MSE 0.01 -> 20 dB
    assert float(psnr(a, b)[0]) == pytest.approx(20.0, abs=1e-4)


def test_confidence_ignores_eyes_behind_sunglasses():
    n = {f: len(v) for f, v in FAMILIES.items()}
    probs = {f: torch.eye(k)[:1].repeat(2, 1) for f, k in n.items()}
    probs["glasses"] = torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # sunglasses, none
    probs["eyes"] = torch.tensor([[0.5, 0.5], [0.5, 0.5]]) * 0.9
    assert confident_mask(probs).tolist() == [True, False]


# ------------------------------------------------------- the shipped model
@pytest.fixture(scope="module")
def toon():
    from styleclip_runtime.models.modelset import ModelSet

    if not (TOON_DIR / "generator.safetensors").exists():
        pytest.fail("runtime/modelsets/toon/generator.safetensors is not shipped")
    return ModelSet.load("toon")


def test_shipped_generator_loads_through_the_model_set(toon):
    gen = toon.generator
    assert gen.config == TOON_G_CONFIG
    assert gen.n_style_channels > 1_000
    assert toon.latent_avg.shape == (gen.n_latent, gen.style_dim)
    with torch.no_grad():
        img = gen(gen.mapping(torch.randn(2, gen.style_dim)))
    assert img.shape == (2, 3, 64, 64)
    assert torch.isfinite(img).all()


def _judged_samples(toon, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, G(mapping(z))) for ``count`` seeded z; skips when the judge is not shipped."""
    if toon.spec.judge is None or not (TOON_DIR / "judge.safetensors").exists():
        pytest.skip("the toon judge is not shipped yet")
    gen = toon.generator
    z = torch.randn(count, gen.style_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return z, gen(gen.mapping(z), noise_mode="const").clamp(-1, 1)


def test_shipped_generator_samples_follow_the_z_rule(toon):
    """What the shipped toon-G does (docs/toon-log.md has the full figures): the
    judge reads most samples as confident faces, the background hue follows
    the rule closely, and every family follows it (measured on 500 samples:
    hair style 88, hair colour 88, expression 84, eyes 96, glasses 98, beard
    96 and skin 96 %; on these 32: 81, 91, 84, 95, 94, 100 and 97 %). Seeded,
    so the figures are fixed."""
    z, images = _judged_samples(toon, 32, seed=77)
    judge = toon.judge
    probs = judge_probabilities(judge, images)
    assert float(confident_mask(probs).float().mean()) >= 0.8
    attrs, _ = z_rule(z)
    hue_error = (judge.background_hue(images) - torch.tensor([a.background for a in attrs]) + 0.5) % 1.0 - 0.5
    assert float(hue_error.abs().mean()) < 0.05  # uniform guessing: 0.25
    agreement = rule_agreement(probs, z)
    # chance: 0.17, 0.17, 0.33, 0.5, 0.25, 0.2 and 0.5
    for family, bar in (("hair_style", 0.7), ("hair_color", 0.8), ("glasses", 0.85), ("beard", 0.9),
                        ("skin", 0.85), ("expression", 0.7), ("eyes", 0.85)):
        assert agreement[family] >= bar, (family, agreement[family])


def test_shipped_generator_draws_every_expression(toon):
    """The face codes carry expression, so samples show mouths: the judge
    reads every expression among them about as often as the rule asks (500
    samples: neutral 20, smile 19, sad 17, surprised 22 and angry 22 %; on
    these 64: 14, 17, 19, 28 and 22 %; the toon-G before the face codes:
    neutral 83 %, surprised 0 %)."""
    _, images = _judged_samples(toon, 64, seed=78)
    read = judge_probabilities(toon.judge, images)["expression"].argmax(1)
    shares = {v: float((read == i).float().mean()) for i, v in enumerate(FAMILIES["expression"])}
    for value in FAMILIES["expression"]:  # uniform: 0.2 each
        assert 0.1 <= shares[value] <= 0.35, shares


class _TableMapping:
    """A stand-in generator whose mapping is a known face-code table of the rule's face, plus noise."""

    def __init__(self, table: FaceCode, noise: float) -> None:
        self.table, self.noise = table, noise

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        attrs, seeds = z_rule(z)
        g = torch.Generator().manual_seed(int(z.shape[0]))
        return self.table(attrs, seeds) + self.noise * torch.randn(z.shape[0], z.shape[1], generator=g)


def test_face_code_fitted_to_a_mapping_recovers_its_table():
    """The shipped files keep no phase-A checkpoint; going on from a finished
    generator fits the table to its mapping. A mapping that is a table plus
    noise gives that table's codes back (each family's indicators sum to one,
    so the codes are what is determined, not the columns), and the noise
    shows in the share explained."""
    torch.manual_seed(3)
    truth = FaceCode(TOON_G_CONFIG.style_dim, 8)
    face = FaceCode(TOON_G_CONFIG.style_dim, 8)
    z = torch.randn(500, TOON_G_CONFIG.style_dim, generator=torch.Generator().manual_seed(11))
    attrs, seeds = z_rule(z)
    with torch.no_grad():
        exact = fit_face_code_to_mapping(_TableMapping(truth, 0.0), face, n=4_000)
        assert exact == pytest.approx(1.0, abs=1e-5)
        assert torch.allclose(face(attrs, seeds), truth(attrs, seeds), atol=1e-4)
        noisy = fit_face_code_to_mapping(_TableMapping(truth, 0.1), face, n=4_000)
        error = float((face(attrs, seeds) - truth(attrs, seeds)).abs().max())
    assert 0.5 < noisy < 0.99
    assert error < 0.05  # the noise per coordinate is 0.1


def test_seeded_phase_a_resumes_after_the_shipped_stages(toon, tmp_path):
    """``--continue-a``: the work folder's checkpoint holds the shipped synthesis
    network at the step where the shipped stages end, with a face-code table
    whose codes the shipped mapping lands near (as phase B left them); a step
    count inside a stage, or one with no stage after it, is refused."""
    cfg = GeneratorTraining()
    more = GeneratorTraining(stages=cfg.stages + ((64, 3000),))
    seed_phase_a(TOON_DIR / "generator.safetensors", tmp_path, more, cfg.steps_a, log=lambda _: None)
    ckpt = torch.load(str(tmp_path / "phase_a.pt"), map_location="cpu", weights_only=True)
    assert ckpt["step"] == cfg.steps_a
    shipped = toon.generator.state_dict()
    for key in ("convs.0.conv.weight", "to_rgbs.3.conv.weight"):
        assert torch.allclose(ckpt["gen"][key].float(), shipped[key].float())
    face = FaceCode(TOON_G_CONFIG.style_dim, 8)
    face.load_state_dict(ckpt["face"])
    z = torch.randn(1_000, TOON_G_CONFIG.style_dim, generator=torch.Generator().manual_seed(9))
    attrs, seeds = z_rule(z)
    with torch.no_grad():
        accuracy = face.family_accuracy(toon.generator.mapping(z) - face(attrs, seeds), face.features(attrs, seeds))
    assert min(accuracy) > 0.85, accuracy  # 0.91-0.99 measured: the mapping names every family's value
    with pytest.raises(ValueError):
        seed_phase_a(TOON_DIR / "generator.safetensors", tmp_path, more, cfg.steps_a - 1)
    with pytest.raises(ValueError):
        seed_phase_a(TOON_DIR / "generator.safetensors", tmp_path, cfg, cfg.steps_a)
