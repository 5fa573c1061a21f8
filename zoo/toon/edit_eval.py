"""Scoring edits in the toon world with the independent judge.

For a prompt that names an attribute value (``captions.PROMPTS``), an edit
*succeeds* on a subject where the judge did not see that value before and
sees it after, and *keeps the rest* where every other family's verdict is
unchanged. Background hue is continuous and skin tone is the judge's weakest
family; both are reported but not counted as "the rest". Eyes behind
sunglasses (before or after the edit) cannot be seen, so they are not
compared on those subjects.

Used by the engine tests (a sample) and by ``python -m
styleclip_zoo.toon.edit_eval`` (the full figures of docs/toon-log.md).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from dataclasses import asdict, dataclass

import torch

from .captions import PROMPTS

KEPT_FAMILIES_EXCLUDED = ("skin",)
ENGINE_PROMPTS = ("smile", "curly hair", "purple hair", "glasses", "bald", "closed eyes", "beard", "surprised")


def has_value(verdict, family: str, value: str) -> bool:
    seen = verdict.value(family)
    if family == "glasses" and value == "round":  # 'glasses' means any glasses
        return seen != "none"
    return seen == value


@dataclass
class EditScore:
    prompt: str
    engine: str
    subjects: int
    absent_before: int
    success: float          # share of absent-before subjects where the judge sees the target after
    kept: float             # share of (subject, other family) verdicts unchanged
    kept_all: float         # share of subjects with every other family unchanged
    worst_family: str
    worst_family_kept: float
    seconds: float = 0.0


def score(judge, before: torch.Tensor, after: torch.Tensor, prompt: str, engine: str) -> EditScore:
    family, value = PROMPTS[prompt]
    vb, va = judge.predict(before), judge.predict(after)
    absent = [i for i, v in enumerate(vb) if not has_value(v, family, value)]
    hits = sum(1 for i in absent if has_value(va[i], family, value))
    others = [f for f in vb[0].attributes if f != family and f not in KEPT_FAMILIES_EXCLUDED]
    if family == "hair_style" and value == "bald":
        others = [f for f in others if f != "hair_color"]  # a bald head has no hair colour to keep
    def defined(i: int, f: str) -> bool:  # eyes behind sunglasses, before or after, cannot be compared
        return f != "eyes" or "sunglasses" not in (vb[i].value("glasses"), va[i].value("glasses"))

    def same(i: int, f: str) -> bool:
        return not defined(i, f) or vb[i].value(f) == va[i].value(f)

    per_family = {}
    for f in others:
        rows = [i for i in range(len(vb)) if defined(i, f)]
        per_family[f] = sum(same(i, f) for i in rows) / len(rows) if rows else 1.0
    kept = sum(per_family.values()) / max(1, len(per_family))
    kept_all = sum(all(same(i, f) for f in others) for i in range(len(vb))) / len(vb)
    worst = min(per_family, key=per_family.get)
    return EditScore(prompt, engine, len(vb), len(absent), hits / max(1, len(absent)), kept, kept_all,
                     worst, per_family[worst])


def sample_subjects(generator, n: int, seed: int = 1234, truncation: float = 0.7) -> torch.Tensor:
    """W+ codes of ``n`` generator samples (seeded)."""
    from styleclip_runtime.engines.global_directions import sample_wplus

    return sample_wplus(generator, n, seed=seed, truncation=truncation)


@torch.no_grad()
def subjects_without(generator, judge, prompt: str, n: int, pool: int = 512, seed: int = 1234,
                     truncation: float = 0.7) -> torch.Tensor:
    """The first ``n`` of ``pool`` seeded samples on which the judge does not see
    ``prompt``'s attribute: every subject can show success (fewer if the pool
    holds fewer)."""
    from styleclip_runtime.execution.state import Item, render

    family, value = PROMPTS[prompt]
    w = sample_subjects(generator, pool, seed, truncation)
    verdicts = judge.predict(render(generator, [Item(f"s{i}", "eval", i, w[i]) for i in range(len(w))], "cpu"))
    keep = [i for i, v in enumerate(verdicts) if not has_value(v, family, value)][:n]
    return w[keep]


def main() -> None:  # pragma: no cover - a measurement script
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.engines import layer_choice as layers
    from .build import load_toon_clip
    from styleclip_runtime.engines import optimization as opt
    from styleclip_runtime.engines.mapper import apply_strength
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.execution.build_executor import results_cache_dir
    from styleclip_runtime.execution.state import Item, render
    from styleclip_runtime.execution.warm import WarmModels

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--subjects", type=int, default=32)
    ap.add_argument("--engines", default="global,mapper,optimize")
    ap.add_argument("--prompts", default=",".join(ENGINE_PROMPTS))
    ap.add_argument("--opt-steps", type=int, default=100)
    ap.add_argument("--opt-lr", type=float, default=0.1)
    ap.add_argument("--opt-l2", type=float, default=0.008)
    ap.add_argument("--opt-space", choices=("wplus", "s"), default="wplus")
    ap.add_argument("--opt-beta", type=float, default=0.0,
                    help="with --opt-space s, optimise only the channels a direction keeps at this beta")
    ap.add_argument("--opt-views", type=int, default=0, help="optimize's views= (augmented CLIP copies)")
    ap.add_argument("--opt-smooth", type=float, default=0.0, help="optimize's smooth= (StyleSpace noise, in stds)")
    ap.add_argument("--alpha", type=float, default=4.1)
    ap.add_argument("--beta", type=float, default=0.15)
    ap.add_argument("--strength", type=float, default=1.0, help="mapper strength")
    ap.add_argument("--layers", default="all", choices=layers.CHOICES, help="the W+ levels every edit may change")
    ap.add_argument("--opt-clip", type=Path, default=None,
                    help="a toon-CLIP folder (clip_config.json + clip.safetensors, e.g. a `zoo build --out DIR`) to "
                         "guide the optimization instead of the set's own")
    ap.add_argument("--models", default="toon",
                    help="the model set: a name or a YAML path (e.g. the toon.yaml a `zoo build --out DIR` wrote)")
    ap.add_argument("--without-target", action="store_true",
                    help="per prompt, the first --subjects samples (of 512) that lack its attribute")
    args = ap.parse_args()
    ms = ModelSet.load(args.models)
    models = WarmModels(ms, Cache(results_cache_dir(ms)), "cpu", notify=print)
    g, judge = models.generator, models.judge
    w = sample_subjects(g, args.subjects)
    items = [Item(f"s{i}", "eval", i, w[i]) for i in range(len(w))]
    before = render(g, items, "cpu")
    results = []
    for engine in args.engines.split(","):
        for prompt in args.prompts.split(","):
            if args.without_target:
                w = subjects_without(g, judge, prompt, args.subjects)
                items = [Item(f"s{i}", "eval", i, w[i]) for i in range(len(w))]
                before = render(g, items, "cpu")
            t0 = time.perf_counter()
            if engine == "global":
                d, _ = models.direction(prompt, "a face", args.beta)
                offset = layers.mask_offsets(args.layers, g.layout, [args.alpha * x for x in d.delta])
                edited = [Item(it.name, "eval", it.index, it.wplus, offset) for it in items]
            elif engine == "mapper":
                m = models.mapper(prompt, None, print)
                with torch.no_grad():
                    ww = apply_strength(m, w, args.strength, layers.wplus_mask(args.layers, g.n_latent))
                edited = [Item(it.name, "eval", it.index, ww[i]) for i, it in enumerate(items)]
            else:
                mask = None
                if args.opt_beta > 0:
                    mask = models.direction(prompt, "a face", args.opt_beta)[0].channel_mask()
                if args.opt_space == "s":
                    mask = layers.s_channel_mask(args.layers, g.layout, mask)
                w_mask = layers.wplus_mask(args.layers, g.n_latent) if args.opt_space == "wplus" else None
                guide = load_toon_clip(args.opt_clip) if args.opt_clip else models.clip
                text = guide.encode_text([prompt])[0].float().detach()
                res = opt.optimize(g, guide, w, text, steps=args.opt_steps,
                                   lr=args.opt_lr, l2=args.opt_l2, space=args.opt_space, s_mask=mask, w_mask=w_mask,
                                   views=args.opt_views, smooth=args.opt_smooth,
                                   style_std=models.style_std() if args.opt_smooth else None,
                                   seeds=list(range(len(w))))
                edited = [Item(it.name, "eval", it.index, res.wplus[i],
                               [o[i] for o in res.s_offset] if res.s_offset is not None else None)
                          for i, it in enumerate(items)]
            after = render(g, edited, "cpu")
            s = score(judge, before, after, prompt, engine)
            s.seconds = time.perf_counter() - t0
            results.append(s)
            with torch.no_grad():  # toon-CLIP's own view of the edit, beside the judge's
                text = models.text_embedding(prompt)
                clip_loss = {f"clip_loss_{k}": round(float((1 - models.clip.encode_images(x) @ text).mean()), 4)
                             for k, x in (("before", before), ("after", after))}
            print(json.dumps(asdict(s) | clip_loss), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
