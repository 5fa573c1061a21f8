"""Scoring edits in the toon world with the attribute judges, under the evaluation protocol.

For a prompt that names an attribute value (``captions.PROMPTS``), an edit
*succeeds* on a subject where no judge saw that value before and every judge
sees it after, and *keeps the rest* where every judge's verdict on every other
family is unchanged. Every family counts, skin and hair colour (for ``bald``
too) included; the one exception is the eyes behind sunglasses (before or
after the edit), which cannot be seen: a judge that reads sunglasses on a
subject does not vote on its eyes, and the eyes are left out only where no
judge can compare them. Given one judge, the rule is that judge's; given
several (toon ships two), an edit counts only where they all agree: one judge
reading the drawn glasses as sunglasses does not hide an eyes change the other
sees.

Subjects come from the protocol's sets (``eval_protocol``): the engine tests
and tuning work use ``TUNING`` or ``VALIDATION``; ``python -m
styleclip_zoo.toon.edit_eval --report`` scores the ``REPORT`` set at the
documented settings and at plain defaults (``edit_settings``), with Wilson 95 %
intervals: the table of docs/toon.md.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .captions import PROMPTS
from .eval_protocol import KEPT_BAR, REPORT, REPORT_MIN_SUBJECTS, SETS, SUCCESS_BAR, TUNING, SubjectSet, wilson

ENGINE_PROMPTS = ("smile", "curly hair", "purple hair", "glasses", "bald", "closed eyes", "beard", "surprised")
ENGINES = ("global", "mapper", "optimize")


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
    success: float          # share of absent-before subjects where every judge sees the target after
    kept: float             # share of (subject, other family) verdicts unchanged, mean over the families
    kept_all: float         # share of subjects with every other family unchanged
    worst_family: str
    worst_family_kept: float
    seconds: float = 0.0
    hits: int = 0
    success_low: float = 0.0   # Wilson 95 % interval of success (hits of absent_before)
    success_high: float = 1.0
    kept_low: float = 0.0      # Wilson 95 % interval of kept, counting each subject once (its families are
    kept_high: float = 1.0     # not independent draws, so n = subjects, not subject-family pairs)
    judges: str = "judge"
    setting: str = ""

    @property
    def passes(self) -> bool:
        return self.success >= SUCCESS_BAR and self.kept >= KEPT_BAR


def _as_list(judges) -> list:
    return list(judges) if isinstance(judges, (list, tuple)) else [judges]


def score(judges, before: torch.Tensor, after: torch.Tensor, prompt: str, engine: str,
          names: Sequence[str] | None = None) -> EditScore:
    """Score one edit of a batch: ``judges`` is one judge or several (an edit counts where all agree)."""
    family, value = PROMPTS[prompt]
    judges = _as_list(judges)
    vb = [j.predict(before) for j in judges]
    va = [j.predict(after) for j in judges]
    n = len(vb[0])
    absent = [i for i in range(n) if not any(has_value(v[i], family, value) for v in vb)]
    hits = sum(1 for i in absent if all(has_value(v[i], family, value) for v in va))
    others = [f for f in vb[0][0].attributes if f != family]

    def sees(k: int, i: int, f: str) -> bool:
        """Judge ``k`` can compare family ``f`` of subject ``i``: not the eyes where it reads sunglasses
        before or after (hidden eyes cannot be compared)."""
        return f != "eyes" or "sunglasses" not in (vb[k][i].value("glasses"), va[k][i].value("glasses"))

    def defined(i: int, f: str) -> bool:  # left out only where no judge can compare (every one sees sunglasses)
        return any(sees(k, i, f) for k in range(len(judges)))

    def same(i: int, f: str) -> bool:  # every judge that can compare it sees no change
        return all(vb[k][i].value(f) == va[k][i].value(f) for k in range(len(judges)) if sees(k, i, f))

    per_family = {}
    for f in others:
        rows = [i for i in range(n) if defined(i, f)]
        per_family[f] = sum(same(i, f) for i in rows) / len(rows) if rows else 1.0
    kept = sum(per_family.values()) / max(1, len(per_family))
    kept_all = sum(all(same(i, f) for f in others) for i in range(n)) / n
    worst = min(per_family, key=per_family.get)
    s_ci, k_ci = wilson(hits, len(absent)), _wilson_share(kept, n)
    return EditScore(prompt, engine, n, len(absent), hits / max(1, len(absent)), kept, kept_all,
                     worst, per_family[worst], hits=hits, success_low=s_ci.low, success_high=s_ci.high,
                     kept_low=k_ci[0], kept_high=k_ci[1],
                     judges="+".join(names or [f"judge{k + 1}" if k else "judge" for k in range(len(judges))]))


def _wilson_share(share: float, n: int) -> tuple[float, float]:
    """Wilson bounds of a share measured on ``n`` subjects (a fractional count of hits)."""
    import math

    from .eval_protocol import Z95

    if n <= 0:
        return 0.0, 1.0
    z = Z95
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def sample_subjects(generator, n: int, subjects: SubjectSet = TUNING) -> torch.Tensor:
    """W+ codes of the first ``n`` samples of a protocol set."""
    from styleclip_runtime.engines.global_directions import sample_wplus

    return sample_wplus(generator, n, seed=subjects.seed, truncation=subjects.truncation)


@torch.no_grad()
def subjects_without(generator, judges, prompt: str, n: int, subjects: SubjectSet = TUNING,
                     pool: int | None = None) -> torch.Tensor:
    """The first ``n`` of the set's pool (or of its first ``pool``) on which no judge sees ``prompt``'s
    attribute: every subject can show success (fewer if the pool holds fewer)."""
    from styleclip_runtime.execution.state import Item, render

    family, value = PROMPTS[prompt]
    w = sample_subjects(generator, pool or subjects.pool, subjects)
    images = render(generator, [Item(f"s{i}", "eval", i, w[i]) for i in range(len(w))], "cpu")
    seen = [j.predict(images) for j in _as_list(judges)]
    keep = [i for i in range(len(w)) if not any(has_value(v[i], family, value) for v in seen)][:n]
    return w[keep]


def report_scores(models, judges: list, names: list[str], engines: Sequence[str], prompts: Sequence[str],
                  subjects: int = REPORT_MIN_SUBJECTS, opt_subjects: int | None = None, kinds=("documented", "defaults"),
                  subject_set: SubjectSet = REPORT, notify=print) -> list[dict]:
    """Every (engine, prompt, setting) of the report: scores by each judge alone and by all in agreement."""
    from styleclip_runtime.execution.state import Item, render

    from .edit_settings import apply, settings

    g = models.generator
    set_defaults = getattr(models.modelset.spec, "engine_defaults", None) or {}
    rows = []
    for prompt in prompts:
        w_all = subjects_without(g, judges, prompt, subjects, subject_set)
        if len(w_all) < subjects:  # the protocol's minimum is a rule, not a wish
            raise ValueError(f"the {subject_set.name} pool holds {len(w_all)} subjects lacking {prompt!r}, not "
                             f"{subjects}: enlarge its pool (eval_protocol.py)")
        before_all = render(g, [Item(f"s{i}", "eval", i, w_all[i]) for i in range(len(w_all))], "cpu")
        for engine in engines:
            n = min(len(w_all), opt_subjects or len(w_all)) if engine == "optimize" else len(w_all)
            w, before = w_all[:n], before_all[:n]
            done: dict[str, torch.Tensor] = {}  # a documented setting equal to the defaults is run once
            for setting in settings(engine, prompt, set_defaults):
                if setting.kind not in kinds:
                    continue
                t0 = time.perf_counter()
                if setting.text() not in done:
                    done[setting.text()] = render(g, apply(models, setting, w), "cpu")
                after = done[setting.text()]
                seconds = time.perf_counter() - t0
                row = {"engine": engine, "prompt": prompt, "kind": setting.kind, "setting": setting.text(),
                       "subject_set": subject_set.name, "seconds": round(seconds, 1)}
                for key, js, ns in [(nm, [j], [nm]) for j, nm in zip(judges, names)] + [("agreed", judges, names)]:
                    sc = score(js, before, after, prompt, engine, ns)
                    sc.seconds, sc.setting = seconds, setting.text()
                    row[key] = asdict(sc) | {"passes": sc.passes}
                notify(json.dumps(row))
                rows.append(row)
    return rows


def _cell(score: dict) -> str:
    mark = "**" if score["passes"] else ""
    return (f"{mark}{score['success']:.2f}{mark} ({score['success_low']:.2f}-{score['success_high']:.2f}) / "
            f"{mark}{score['kept']:.2f}{mark} ({score['kept_low']:.2f}-{score['kept_high']:.2f})")


def markdown_table(rows: list[dict], kind: str, names: Sequence[str]) -> str:
    """One markdown table (prompts x engines) of the rows of one kind: success / kept in agreement with
    their intervals, bold where both bars are met, and each judge's own success."""
    engines = [e for e in ENGINES if any(r["engine"] == e and r["kind"] == kind for r in rows)]
    prompts = [p for p in ENGINE_PROMPTS if any(r["prompt"] == p for r in rows)]
    lines = ["| prompt | " + " | ".join(engines) + " |", "| --- |" + " --- |" * len(engines)]
    for prompt in prompts:
        cells = []
        for engine in engines:
            r = next((r for r in rows if (r["engine"], r["prompt"], r["kind"]) == (engine, prompt, kind)), None)
            if r is None:
                cells.append("-")
                continue
            alone = "; alone " + ", ".join(f"{r[nm]['success']:.2f}" for nm in names) if len(names) > 1 else ""
            cells.append(f"{_cell(r['agreed'])}{alone}; n {r['agreed']['absent_before']}")
        lines.append(f"| {prompt} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def passing(rows: list[dict], kind: str) -> dict[str, int]:
    """Per engine, how many prompts meet both bars with the judges in agreement."""
    out: dict[str, int] = {}
    for r in rows:
        if r["kind"] == kind:
            out[r["engine"]] = out.get(r["engine"], 0) + int(r["agreed"]["passes"])
    return out


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - a measurement script
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.build_executor import results_cache_dir
    from styleclip_runtime.execution.state import render
    from styleclip_runtime.execution.warm import WarmModels
    from styleclip_runtime.models.modelset import ModelSet

    from .edit_settings import Setting, apply, defaults

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", action="store_true",
                    help="score the report set at the documented settings and at plain defaults (the card's table)")
    ap.add_argument("--set", choices=("tuning", "validation"), default="tuning",
                    help="the protocol's subject set for settings given on the command line (never the report set)")
    ap.add_argument("--subjects", type=int, default=None,
                    help=f"subjects per prompt (default 32; --report: {REPORT_MIN_SUBJECTS}, the protocol's minimum)")
    ap.add_argument("--opt-subjects", type=int, default=None,
                    help="--report: score optimize on only the first N of each prompt's subjects (it is the costly engine)")
    ap.add_argument("--kinds", default="documented,defaults", help="--report: which settings to score")
    ap.add_argument("--json", type=Path, default=None, help="--report: also write the rows here")
    ap.add_argument("--table", type=Path, nargs="+", default=None,
                    help="print the markdown tables of --json files written by --report (e.g. one run of global and "
                         "mapper, one of optimize), and exit")
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
    ap.add_argument("--keep", default="", help="global and optimize: keep= texts")
    ap.add_argument("--strength", type=float, default=1.0, help="mapper strength")
    ap.add_argument("--layers", default="all", help="the W+ levels every edit may change")
    ap.add_argument("--models", default="toon",
                    help="the model set: a name or a YAML path (e.g. the toon.yaml a `zoo build --out DIR` wrote)")
    ap.add_argument("--without-target", action="store_true",
                    help="per prompt, the first --subjects samples of the set that lack its attribute")
    args = ap.parse_args(argv)
    engines, prompts = args.engines.split(","), args.prompts.split(",")
    if args.table is not None:
        docs = [json.loads(path.read_text()) for path in args.table]
        rows = [row for doc in docs for row in doc["rows"]]
        names = docs[0]["judges"]
        for kind in ("documented", "defaults"):
            if any(r["kind"] == kind for r in rows):
                print(f"\n{kind}: prompts passing {passing(rows, kind)}\n\n{markdown_table(rows, kind, names)}")
        return
    if args.report:
        tuned = {a: getattr(args, a) for a in ("opt_steps", "opt_lr", "opt_l2", "opt_space", "opt_beta", "opt_views",
                                               "opt_smooth", "alpha", "beta", "keep", "strength", "layers")
                 if getattr(args, a) != ap.get_default(a)}
        if tuned or args.set != "tuning" or args.without_target:
            sys.exit(f"edit_eval --report scores only the documented settings and the defaults (edit_settings.py), "
                     f"on the report set; it takes no {', '.join(tuned) or '--set/--without-target'}")
        if (args.subjects or REPORT_MIN_SUBJECTS) < REPORT_MIN_SUBJECTS:
            sys.exit(f"the report set is scored on at least {REPORT_MIN_SUBJECTS} subjects per prompt")
    ms = ModelSet.load(args.models)
    models = WarmModels(ms, Cache(results_cache_dir(ms)), "cpu", notify=print)
    named = ms.judges
    names, judges = [n for n, _ in named], [j for _, j in named]
    if args.report:
        t0 = time.perf_counter()
        rows = report_scores(models, judges, names, engines, prompts, args.subjects or REPORT_MIN_SUBJECTS,
                             args.opt_subjects, tuple(args.kinds.split(",")))
        for kind in ("documented", "defaults"):
            if any(r["kind"] == kind for r in rows):
                print(f"\n{kind}: prompts passing {passing(rows, kind)}\n\n{markdown_table(rows, kind, names)}")
        if args.json is not None:
            doc = {"judges": names, "subject_set": asdict(REPORT), "opt_subjects": args.opt_subjects,
                   "files": {f.role: f.sha256 for f in ms.spec.files()}, "seconds": round(time.perf_counter() - t0),
                   "rows": rows}
            tmp = args.json.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=1))
            tmp.replace(args.json)
        return
    subject_set = SETS[args.set]
    n = args.subjects or 32
    g = models.generator
    from styleclip_runtime.execution.state import Item

    w = sample_subjects(g, n, subject_set)
    for engine in engines:
        for prompt in prompts:
            if args.without_target:
                w = subjects_without(g, judges, prompt, n, subject_set)
            before = render(g, [Item(f"s{i}", "eval", i, w[i]) for i in range(len(w))], "cpu")
            params = defaults(engine, getattr(ms.spec, "engine_defaults", None), prompt) | {"layers": args.layers}
            if engine == "global":
                params |= {"alpha": args.alpha, "beta": args.beta, "keep": args.keep}
            elif engine == "mapper":
                params |= {"strength": args.strength}
            else:
                params |= {"steps": args.opt_steps, "lr": args.opt_lr, "l2": args.opt_l2, "space": args.opt_space,
                           "beta": args.opt_beta, "views": args.opt_views, "smooth": args.opt_smooth,
                           "keep": args.keep}
            setting = Setting(engine, prompt, "command line", params)
            t0 = time.perf_counter()
            after = render(g, apply(models, setting, w), "cpu")
            s = score(judges, before, after, prompt, engine, names)
            s.seconds, s.setting = time.perf_counter() - t0, setting.text()
            print(json.dumps(asdict(s) | {"passes": s.passes, "subject_set": subject_set.name}), flush=True)


if __name__ == "__main__":  # pragma: no cover
    main()
