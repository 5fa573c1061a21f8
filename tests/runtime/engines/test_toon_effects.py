"""The engines do what the text says, in the toon world, as the independent
judge sees it: the target attribute appears where it was absent, and the
other attribute families mostly stay as they were.

The bars here are the ones the shipped toon models reach (measured figures
in docs/toon-log.md), some below the issue's 80 % / 85 %; the pairs listed are
checked on 32 generated subjects of the evaluation protocol's tuning set
(``eval_protocol.TUNING``: psi 0.7, seed 1234, the subjects the settings were
tuned on; the report set is never used here). Optimization, the costly engine on a CPU, runs on 12
subjects: 60 steps in W+, and 100 steps in S with and without the channel
mask.
"""
from __future__ import annotations

import pytest
import torch

from styleclip_zoo.toon.edit_eval import sample_subjects, score
from styleclip_zoo.toon.eval_protocol import TUNING

pytestmark = pytest.mark.slow

# toon's relevance scores are larger than FFHQ's: alpha 2 keeps more of the rest; shapes need more.
# prompt: (alpha, success floor, kept floor), floors a little under the figures measured on these
# subjects with the shipped (100-image) relevance table (docs/toon-log.md): closed eyes 1.00 / 0.84, beard
# 1.00 / 0.96, surprised 1.00 / 0.95, glasses 1.00 / 0.95, smile 0.76 / 0.98, purple hair 0.78 / 0.74,
# curly hair 0.93 / 0.92, bald 1.00 / 0.88 (0.80 since the protocol counts hair colour for bald too: the
# direction recolours eyebrows and beard). 'glasses' is scored on the 8 of the 32 subjects without them.
GLOBAL_EDITS = {"closed eyes": (1.5, 0.9, 0.8), "beard": (2.0, 0.9, 0.9), "surprised": (2.0, 0.9, 0.9),
                "glasses": (2.0, 0.85, 0.9), "smile": (1.5, 0.7, 0.9), "purple hair": (4.1, 0.7, 0.65),
                "curly hair": (4.1, 0.85, 0.85), "bald": (4.1, 0.9, 0.75)}
ALPHA, BETA = 2.0, 0.15


@pytest.fixture(scope="module")
def toon(tmp_path_factory):
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.execution.state import Item, render
    from styleclip_runtime.execution.warm import WarmModels

    ms = ModelSet.load("toon")
    models = WarmModels(ms, Cache(tmp_path_factory.mktemp("results")), "cpu")
    w = sample_subjects(models.generator, 32, TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    return models, w, items, render(models.generator, items, "cpu")


def _with_offset(models, items, offset):
    from styleclip_runtime.execution.state import Item, render

    return render(models.generator, [Item(it.name, "t", it.index, it.wplus, offset) for it in items], "cpu")


def _with_codes(models, items, codes):
    from styleclip_runtime.execution.state import Item, render

    return render(models.generator, [Item(it.name, "t", it.index, codes[i]) for i, it in enumerate(items)], "cpu")


@pytest.mark.parametrize("prompt", GLOBAL_EDITS)
def test_global_direction_edits_what_the_text_says(toon, prompt) -> None:
    models, w, items, before = toon
    alpha, success, kept = GLOBAL_EDITS[prompt]
    direction, _ = models.direction(prompt, "a face", BETA)
    after = _with_offset(models, items, [alpha * d for d in direction.delta])
    s = score(models.judge, before, after, prompt, "global")
    assert s.absent_before >= 5, "the sample should hold subjects without the attribute"
    assert s.success >= success, s
    assert s.kept >= kept, s


def test_layers_keep_what_the_levels_left_alone_carry(toon) -> None:
    """``layers=medium``: 'surprised' at alpha 4.1 on the medium rows only keeps far more of the
    rest than on every level (measured on these subjects: 0.91 against 0.73; the beard, worst on
    every level, comes and goes with the coarse rows) and is still surprised on all of them."""
    from styleclip_runtime.engines import layer_choice as layers

    models, w, items, before = toon
    direction, _ = models.direction("surprised", "a face", BETA)
    offset = [4.1 * d for d in direction.delta]
    every = score(models.judge, before, _with_offset(models, items, offset), "surprised", "global")
    scoped = score(models.judge, before, _with_offset(models, items, layers.mask_offsets(
        "medium", models.generator.layout, offset)), "surprised", "global")
    assert scoped.kept >= every.kept + 0.1 and scoped.kept >= 0.88, (scoped, every)
    assert scoped.success >= 0.9, scoped


def test_global_alpha_sign_and_beta(toon) -> None:
    """alpha = 0 is the source exactly; negative alpha moves away from the
    text; a higher beta changes fewer channels."""
    models, w, items, before = toon
    d, _ = models.direction("purple hair", "a face", BETA)
    assert torch.equal(_with_offset(models, items, [0.0 * x for x in d.delta]), before)
    count = lambda imgs: sum(v.value("hair_color") == "purple" for v in models.judge.predict(imgs))
    plus = count(_with_offset(models, items, [ALPHA * x for x in d.delta]))
    minus = count(_with_offset(models, items, [-ALPHA * x for x in d.delta]))
    base = count(before)
    assert minus <= base < plus
    counts = [models.direction("purple hair", "a face", b)[0].n_channels for b in (0.05, 0.1, 0.15, 0.2)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


# Every other family's values, as a recipe would name them (docs/toon-log.md, "Conditional directions").
SMILE_KEEP = ("a bald head, short hair, long hair, curly hair, a mohawk, a bob haircut, black hair, brown hair, "
              "blonde hair, red hair, purple hair, white hair, closed eyes, round glasses, sunglasses, a beard")


def test_keep_lets_smile_through_where_the_plain_direction_cannot(toon) -> None:
    """``global 'smile' keep='...' beta=0.1 alpha=2``: with what CLIP also reads in the smile's
    channels projected out, the direction meets both bars on the 32 subjects without a smile
    (measured 0.88 / 0.91), where the plain one at the same setting smiles on 0.66 of them (and
    on at most 0.78 at any beta 0.1-0.2 and alpha 1-4.1, docs/toon-log.md)."""
    from styleclip_runtime.engines.keep import keep_texts
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import subjects_without

    models = toon[0]
    w = subjects_without(models.generator, models.judge, "smile", 32, subjects=TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    before = render(models.generator, items, "cpu")
    plain, _ = models.direction("smile", "a face", 0.1)
    kept, _ = models.direction("smile", "a face", 0.1, keep_texts(SMILE_KEEP))
    scores = {name: score(models.judge, before, _with_offset(models, items, [2.0 * x for x in d.delta]), "smile", name)
              for name, d in (("plain", plain), ("keep", kept))}
    assert scores["keep"].success >= 0.8 and scores["keep"].kept >= 0.85, scores
    assert scores["keep"].success >= scores["plain"].success + 0.15, scores


def test_keep_lets_purple_hair_through_with_a_colours_few_channels(toon) -> None:
    """``global 'purple hair' keep='a bald head' beta=0.38 layers=medium alpha=10``: toon-CLIP reads
    part of 'purple hair' as a bald head, so the plain direction takes hair-style channels with it;
    with that reading projected out, a high beta (22 channels, as StyleCLIP's README advises for
    colours) on the medium rows, where toon keeps hair colour, meets both bars on the 32 subjects
    without purple hair (measured 0.84 / 0.87; on 64 other subjects 0.91 / 0.86), and keeps more than
    the plain direction at the same setting (0.88 / 0.82, hair style the worst family, 0.63)."""
    from styleclip_runtime.engines import layer_choice as layers
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import subjects_without

    models = toon[0]
    w = subjects_without(models.generator, models.judge, "purple hair", 32, subjects=TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    before = render(models.generator, items, "cpu")
    scores = {}
    for name, keep in (("plain", ()), ("keep", ("a bald head",))):
        d, _ = models.direction("purple hair", "a face", 0.38, keep)
        offset = layers.mask_offsets("medium", models.generator.layout, [10.0 * x for x in d.delta])
        scores[name] = score(models.judge, before, _with_offset(models, items, offset), "purple hair", name)
    assert scores["keep"].success >= 0.8 and scores["keep"].kept >= 0.85, scores
    assert scores["keep"].kept >= scores["plain"].kept + 0.03, scores


# The shipped mappers (L2 weight 40, docs/toon-log.md), each at a strength that
# reaches its target on these subjects (strength k multiplies the residual by k):
# prompt: (strength, success floor, kept floor). 'glasses' is scored on the 8 subjects
# without them. 'purple hair' is the W-space mapper trained toward the text less the hair
# styles' directions (L2 8, `train_mappers --space w --keep ...`, seed 1): 1.00 / 0.89 here at
# strength 1.5 (all 27 subjects without purple hair; seed 0's weights, shipped before, 0.85 / 0.90
# at 1.25). 'bald' keeps 0.84 here with hair colour counted (the protocol's rule; 0.93 without it):
# the mapper recolours eyebrows and beard.
MAPPER_EDITS = {"closed eyes": (3.0, 0.9, 0.9), "surprised": (2.0, 0.9, 0.9), "curly hair": (4.0, 0.75, 0.85),
                "glasses": (3.0, 0.75, 0.9), "bald": (5.0, 0.75, 0.8), "beard": (2.0, 0.9, 0.9),
                "smile": (3.0, 0.9, 0.9), "purple hair": (1.5, 0.9, 0.85)}


@pytest.mark.parametrize("prompt", MAPPER_EDITS)
def test_shipped_mapper_edits_what_the_text_says(toon, prompt) -> None:
    from styleclip_runtime.engines.mapper import apply_strength

    models, w, items, before = toon
    assert models.modelset.mapper_path(prompt) is not None, "toon ships this mapper"
    mapper = models.mapper(prompt, None, lambda m: None)
    strength, success, kept = MAPPER_EDITS[prompt]
    with torch.no_grad():
        after = _with_codes(models, items, apply_strength(mapper, w, strength))
        none = _with_codes(models, items, apply_strength(mapper, w, 0.0))
    assert torch.equal(none, before)
    s = score(models.judge, before, after, prompt, "mapper")
    assert s.success >= success, s
    assert s.kept >= kept, s


@pytest.mark.parametrize(("prompt", "floor"), [("curly hair", 0.6), ("bald", 0.6)])
def test_optimization_edits_and_l2_keeps_the_subject(toon, prompt, floor) -> None:
    """The text's attribute appears; with the default l2 the result stays
    near the subject, with l2 = 0 it drifts much further (code and image)."""
    from styleclip_runtime.engines import optimization as opt
    from styleclip_runtime.execution.expect_metrics import psnr

    models, w, items, before = toon
    sub, sub_items, sub_before = w[:12], items[:12], before[:12]
    text = models.text_embedding(prompt)
    tied = opt.optimize(models.generator, models.clip, sub, text, steps=60, l2=0.008)
    free = opt.optimize(models.generator, models.clip, sub, text, steps=60, l2=0.0)
    after_tied = _with_codes(models, sub_items, tied.wplus)
    after_free = _with_codes(models, sub_items, free.wplus)
    s = score(models.judge, sub_before, after_tied, prompt, "optimize")
    # with l2 = 0.008 here: curly hair 0.73 (8 of 11) with two threads, 1.00 with one (the
    # optimisation's path depends on the float summation order), bald 0.83 (10 of 12)
    assert s.success >= floor, s
    drift = lambda r: ((r.wplus - sub) ** 2).flatten(1).sum(1).mean()
    assert drift(tied) * 10 < drift(free)
    assert psnr(after_tied, sub_before).mean() > psnr(after_free, sub_before).mean()


def test_subjects_without_the_target_lack_it(toon) -> None:
    """edit_eval --without-target: every chosen subject can show success."""
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import has_value, subjects_without

    models = toon[0]
    w = subjects_without(models.generator, models.judge, "glasses", 6, pool=64, subjects=TUNING)
    assert len(w) == 6  # a pool of 64 holds at least 6 subjects without glasses
    seen = models.judge.predict(render(models.generator, [Item(f"s{i}", "t", i, w[i]) for i in range(6)], "cpu"))
    assert not any(has_value(v, "glasses", "round") for v in seen)


def _s_space_scores(models, w, items, before, prompt: str, runs: dict[str, dict]) -> dict:
    """The judge's score of S-space optimisation (100 steps, lr 0.02 unless the run says) of each run's
    options."""
    from styleclip_runtime.engines import optimization as opt
    from styleclip_runtime.execution.state import Item, render

    scores = {}
    for name, options in runs.items():
        options = {"lr": 0.02, **options}
        text = options.pop("target", None)
        text = models.text_embedding(prompt) if text is None else text
        res = opt.optimize(models.generator, models.clip, w, text, steps=100, space="s", **options)
        after = render(models.generator, [Item(it.name, "t", it.index, it.wplus, [o[i] for o in res.s_offset])
                                          for i, it in enumerate(items)], "cpu")
        scores[name] = score(models.judge, before, after, prompt, "optimize")
    return scores


# prompt: (success floor, kept floor, kept margin over the unmasked run) of S-space optimisation
# masked to the channels a global direction keeps at beta 0.15 (100 steps, lr 0.02), on the first
# 12 fixed subjects. Measured there with the shipped (100-image) table, masked against unmasked: beard
# 1.00 / 0.91 against 0.78 / 0.63 (9 subjects without a beard), surprised 0.67 / 0.97 against 0.67 / 0.85
# (6 not surprised; on all 32 subjects without it, masked 0.84 / 0.92: docs/toon-log.md).
MASKED_OPTIMIZATION = {"beard": (0.85, 0.8, 0.15), "surprised": (0.6, 0.9, 0.08)}


@pytest.mark.parametrize("prompt", MASKED_OPTIMIZATION)
def test_channel_mask_keeps_what_the_text_does_not_mention(toon, prompt) -> None:
    """``optimize space=s beta=0.15``: the attribute appears, and more of the rest
    is kept than by the same optimisation free over every channel."""
    models, w, items, before = toon
    sub, sub_items, sub_before = w[:12], items[:12], before[:12]
    mask = models.direction(prompt, "a face", BETA)[0].channel_mask()
    scores = _s_space_scores(models, sub, sub_items, sub_before, prompt,
                             {"masked": {"s_mask": mask}, "free": {}})
    success, kept, margin = MASKED_OPTIMIZATION[prompt]
    masked, free = scores["masked"], scores["free"]
    assert masked.success >= success and masked.kept >= kept, scores
    assert masked.success >= free.success, scores
    assert masked.kept >= free.kept + margin, scores


# prompt: (success floor, kept floor, whether smoothing must reach more subjects than the plain loss,
# how much kept smoothing may give up against it) of the masked S optimisation with views=4 smooth=1 on
# the first 12 subjects without the target (100 steps, lr 0.02, beta 0.15). On all 32 such subjects
# (docs/toon-log.md), smoothed: bald 0.88 / 0.90, beard 0.91 / 0.94. Bald is measured with hair colour
# counted among the kept families (issue #25's protocol). On these 12, smoothed against plain (measured
# 2026-12-05, deterministic from run to run): bald 0.92 / 0.78 against 0.50 / 0.875, so smoothing buys
# 0.42 of success for 0.10 of kept (it recolours eyebrows and beard more often; under the 0.85 bar, #25's
# open work, so the floor guards today's level and the trade may not grow); beard 0.92 / 0.92 against
# 0.92 / 0.93 (the plain loss already reaches it, so there smoothing must only keep up, and keep about as
# much).
SMOOTHED_OPTIMIZATION = {"bald": (0.8, 0.75, True, 0.12), "beard": (0.8, 0.88, False, 0.03)}


@pytest.mark.parametrize("prompt", SMOOTHED_OPTIMIZATION)
def test_views_and_smoothing_follow_what_clip_sees_robustly(toon, prompt) -> None:
    """``optimize ... views=4 smooth=1``: averaging CLIP over augmented copies and StyleSpace noise
    makes the attribute appear on at least as many subjects as the plain CLIP loss (more, for bald), giving
    up no more than a stated share of the rest (toon-CLIP's bare gradient finds images it scores as the
    text that the judge does not)."""
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import subjects_without

    models = toon[0]
    w = subjects_without(models.generator, models.judge, prompt, 12, pool=64, subjects=TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    before = render(models.generator, items, "cpu")
    mask = models.direction(prompt, "a face", BETA)[0].channel_mask()
    seeds = list(range(len(w)))
    scores = _s_space_scores(models, w, items, before, prompt, {
        "smoothed": {"s_mask": mask, "seeds": seeds, "views": 4, "smooth": 1.0, "style_std": models.style_std()},
        "plain": {"s_mask": mask, "seeds": seeds}})
    success, kept, beats, kept_given_up = SMOOTHED_OPTIMIZATION[prompt]
    smoothed, plain = scores["smoothed"], scores["plain"]
    assert smoothed.success >= success and smoothed.kept >= kept, scores
    assert smoothed.success > plain.success if beats else smoothed.success >= plain.success, scores
    assert smoothed.kept >= plain.kept - kept_given_up, scores


# prompt: (beta, lr, success floor, kept floor) of the settings that meet both bars on all 32 subjects
# without the target (docs/toon-log.md, views=4 smooth=1, 100 steps, the 100-image table): closed eyes at
# beta 0.4 1.00 / 0.90 (at 0.3 it kept 0.83, at 0.15 0.74: its wider masks reach glasses and the
# expression), curly hair at beta 0.1 0.81 / 0.88, smile at beta 0.3 and lr 0.03 0.88 / 0.96. On the 12
# subjects here: closed eyes 1.00 / 0.88, curly hair 0.92 / 0.88, smile 0.83 / 0.98.
TUNED_OPTIMIZATION = {"closed eyes": (0.4, 0.02, 0.9, 0.82), "curly hair": (0.1, 0.02, 0.8, 0.8),
                      "smile": (0.3, 0.03, 0.75, 0.9)}


@pytest.mark.parametrize("prompt", TUNED_OPTIMIZATION)
def test_each_prompts_optimization_setting_edits_and_keeps_the_rest(toon, prompt) -> None:
    """The per-prompt settings docs/toon-log.md reports (mask beta, lr; views=4 smooth=1) still reach
    the attribute and keep the rest, as the judge sees them."""
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import subjects_without

    models = toon[0]
    beta, lr, success, kept = TUNED_OPTIMIZATION[prompt]
    w = subjects_without(models.generator, models.judge, prompt, 12, pool=64, subjects=TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    before = render(models.generator, items, "cpu")
    mask = models.direction(prompt, "a face", beta)[0].channel_mask()
    (tuned,) = _s_space_scores(models, w, items, before, prompt, {
        "tuned": {"s_mask": mask, "seeds": list(range(len(w))), "views": 4, "smooth": 1.0, "lr": lr,
                  "style_std": models.style_std()}}).values()
    assert tuned.success >= success and tuned.kept >= kept, tuned


PURPLE_KEEP = "a bald head, short hair, long hair, curly hair, a mohawk, a bob haircut"


def test_optimize_keep_reaches_purple_hair_and_keeps_the_hair_style(toon) -> None:
    """``optimize 'purple hair' space=s beta=0.4 layers=medium keep='<the hair styles>' lr=0.05
    l2=0.001 views=4 smooth=1``: the conditional direction's medium-row channels for the mask and
    CLIP's target made orthogonal to the hair styles' directions. On all 32 subjects without purple
    hair it meets both bars (measured 0.94 / 0.88; on 32 other subjects 0.88 / 0.87), where the same
    optimization aimed at the plain text reaches fewer (0.81 / 0.89; 0.72 / 0.90, docs/toon-log.md). On
    the 12 here, every family counted (issue #25's protocol): 1.00 / 0.86 against 0.92 / 0.88, so the
    keep list buys reach at the cost of at most one family of one subject (1 of 72 judgments)."""
    from styleclip_runtime.engines import layer_choice as layers
    from styleclip_runtime.engines.keep import keep_texts
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_eval import subjects_without

    models = toon[0]
    keep = keep_texts(PURPLE_KEEP)
    w = subjects_without(models.generator, models.judge, "purple hair", 12, pool=64, subjects=TUNING)
    items = [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))]
    before = render(models.generator, items, "cpu")
    mask = layers.s_channel_mask("medium", models.generator.layout,
                                 models.direction("purple hair", "a face", 0.4, keep)[0].channel_mask())
    common = {"s_mask": mask, "seeds": list(range(len(w))), "views": 4, "smooth": 1.0, "lr": 0.05, "l2": 0.001,
              "style_std": models.style_std()}
    scores = _s_space_scores(models, w, items, before, "purple hair", {
        "keep": {**common, "target": models.edit_target("purple hair", "a face", keep)},
        "plain target": common})
    assert scores["keep"].success >= 0.8 and scores["keep"].kept >= 0.85, scores
    assert scores["keep"].success >= scores["plain target"].success, scores
    assert scores["keep"].kept >= scores["plain target"].kept - 1.5 / 72, scores
