"""What a plan will cost before it runs (``styleclip plan --explain``).

For every step: the expensive results it needs (inversions, the
global-direction statistics, directions, mappers, optimizations), whether
each is shipped with the model set, already in the result cache, or must be
computed or trained, and a rough time for what must be computed. Nothing is
loaded but the model set's YAML, the input images and the cache's index:
keys come from ``cache_keys``, the functions the executor files results
under, so what this says is cached is what the run will find.

Estimates come from the model set's ``defaults.estimates`` (seconds per
unit on a ``cpu`` or a ``cuda`` device, measured by the benchmarks or taken
from the paper; see the YAML's comments). A set without them gets no times.
Steps that back-propagate through the generator (optimization, mapper
training) also get a device-memory estimate (``memory_estimate``), and
``Explanation.memory_problems`` says what would not fit a budget and the
fallback.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from styleclip_dsl.plan import EditStep, Plan, SourceStep, as_plan

from ..cache.result_cache import Cache
from ..cache.keys import direction_key, inversion_key, mapper_key, stats_identity, stats_key
from ..engines.protocol import Need, Status, variants
from ..engines.registry import IMPLEMENTATIONS, engine_for
from ..io.image_input import ImageDigests
from .memory_estimate import MemoryEstimate, backward_estimate

#: what each status means, for the legend under the table
STATUS_MEANING: dict[str, str] = {
    "shipped": "a file of the model set",
    "cached": "in the result cache: reused",
    "compute": "not cached: computed on this run, then cached",
    "train": "not cached: a mapper is trained on this run, then cached",
    "on-input": "cached per input code: reused when the step's input is unchanged",
    "missing": "cannot run: see the problem",
}


def format_duration(seconds: float) -> str:
    """A rough duration for people: 400 ms, 42 s, 12 min, 3.5 h."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class StepCost:
    step_id: str
    line: int
    items: int  # how many images the step produces (subjects x sweep variants)
    needs: tuple[Need, ...] = ()
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step_id, "line": self.line, "items": self.items,
                "needs": [n.to_dict() for n in self.needs], "problems": list(self.problems)}


@dataclass(frozen=True)
class Explanation:
    modelset: str
    device: str  # "cpu" or "cuda": which estimates were used
    steps: tuple[StepCost, ...]
    estimates_basis: str | None = None
    missing_files: tuple[str, ...] = ()  # files of the set the run needs that are not on this machine

    @property
    def needs(self) -> list[Need]:
        return [n for s in self.steps for n in s.needs]

    @property
    def problems(self) -> list[str]:
        return list(self.missing_files) + [p for s in self.steps for p in s.problems]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.needs:
            out[n.status] = out.get(n.status, 0) + 1
        return out

    def largest_memory(self) -> Need | None:
        """The need with the largest device-memory estimate among those the run computes."""
        todo = [n for n in self.needs if n.memory is not None and n.status in ("compute", "train", "on-input")]
        return max(todo, key=lambda n: n.memory.total) if todo else None

    def memory_problems(self, budget: int | None) -> list[tuple[str, str, bool]]:
        """What does not fit ``budget`` bytes of device memory, with the fallback, as (step id,
        message, fatal): a smaller batch fits (not fatal: the run halves its chunks on
        out-of-memory by itself), or not even one image does (fatal: only the CPU will do)."""
        from .memory_estimate import format_bytes

        if budget is None:
            return []
        out = []
        for step, n in ((s, n) for s in self.steps for n in s.needs):
            m = n.memory
            if m is None or n.status not in ("compute", "train", "on-input") or m.total <= budget:
                continue
            fits = m.largest_batch_within(budget)
            head = (f"{n.kind} {n.what} needs about {format_bytes(m.total)} of device memory at batch "
                    f"{m.batch}, over the {format_bytes(budget)} budget")
            if fits >= 1 and n.kind == "mapper":
                out.append((step.step_id, f"{head}: batch {fits} fits; training does not shrink its batch by "
                            f"itself: set `mapper_training: {{batch: {fits}}}` in the model set's defaults", False))
            elif fits >= 1:
                out.append((step.step_id, f"{head}: batch {fits} fits (the run halves its chunks on "
                            f"out-of-memory; `optimize_batch: {fits}` in the model set's defaults starts there)",
                            False))
            else:
                out.append((step.step_id, f"{head}: even one image needs "
                            f"{format_bytes(m.weights + m.per_image)}; run it with --device cpu", True))
        return out

    def estimated_seconds(self) -> float | None:
        """Sum of the estimates of what must be computed; None when the set gives none."""
        times = [n.seconds for n in self.needs if n.seconds is not None]
        return sum(times) if times else None

    def to_dict(self) -> dict[str, Any]:
        return {"modelset": self.modelset, "device": self.device, "estimates_basis": self.estimates_basis,
                "missing_files": list(self.missing_files),
                "estimated_seconds": self.estimated_seconds(), "counts": self.counts(),
                "largest_memory_bytes": (lambda n: n.memory.total if n else None)(self.largest_memory()),
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class _Context:
    modelset: Any  # runtime.models.modelset.ModelSet (only its spec, paths and fingerprints are used)
    cache: Cache
    base: Path
    estimates: dict[str, float]
    digests: ImageDigests
    fps: dict[str, str] = field(default_factory=dict)
    stats_counted: bool = False  # the statistics are needed once per run, whatever the number of steps
    one_image: MemoryEstimate | None = None  # the memory estimate at batch 1, worked out once per plan
    one_image_known: bool = False

    def memory(self, batch: int) -> MemoryEstimate | None:
        """The memory estimate at ``batch`` (the generator is sized and the files are looked at once)."""
        if not self.one_image_known:
            self.one_image, self.one_image_known = backward_estimate(self.modelset, 1), True
        return replace(self.one_image, batch=max(1, batch)) if self.one_image is not None else None

    # -- what an engine's ``needs`` asks for (engines/protocol.py: ExplainContext) --
    def direction_needs(self, text: str, neutral: str, beta: float, keep: tuple[str, ...]) -> list[Need]:
        return _direction(self, text, neutral, beta, keep)

    def mapper_need(self, text: str, problems: list[str]) -> Need:
        return _mapper(self, text, problems)

    def optimize_batch_size(self) -> int:
        return int(self.modelset.optimize_batch_size())


def estimates_for(defaults: dict[str, Any], device: str) -> tuple[dict[str, float], str | None]:
    """(seconds per unit, where they come from) from a set's ``defaults.estimates``."""
    table = (defaults.get("estimates") or {}).get(device) or {}
    basis = table.get("basis") if isinstance(table.get("basis"), str) else None
    return {k: float(v) for k, v in table.items() if isinstance(v, (int, float))}, basis


def explain_plan(plan: Plan | dict, modelset, cache: Cache, base: Path, device: str = "cpu",
                 digests: ImageDigests | None = None) -> Explanation:
    """Explain ``plan`` (a ``Plan``, or its JSON data) against a model set and a result cache.
    ``digests``: the executor's, so that the run that follows decodes no image twice."""
    estimates, basis = estimates_for(modelset.spec.defaults, device)
    ctx = _Context(modelset, cache, Path(base), estimates, digests if digests is not None else ImageDigests(),
                   fps=dict(modelset.fingerprints()))
    plan = as_plan(plan)
    counts: dict[str, int] = {}
    out: list[StepCost] = []
    for step in plan.steps:
        line = step.span.line
        match step:
            case SourceStep():
                cost = _source(ctx, step, line)
            case EditStep():
                cost = _edit(ctx, step, line, counts.get(step.input, 0))
            case _:
                cost = StepCost(step.id, line, sum(counts.get(i, 0) for i in step.inputs))
        counts[step.id] = cost.items
        out.append(cost)
    return Explanation(modelset.name, device, tuple(out), basis, _missing_files(modelset, plan))


def _missing_files(modelset, plan: Plan) -> tuple[str, ...]:
    """The set's networks this plan needs whose files are not on this machine (the run's own
    message: where to put each, and its URL)."""
    from ..modelsets.registry import MissingModelFile
    from ..modelsets.verified import ModelFileMismatch

    roles = ["generator"]
    if any(isinstance(s, SourceStep) and s.op == "invert" for s in plan.steps):
        roles.append("encoder")
    if any(isinstance(s, EditStep) for s in plan.steps):
        roles.append("clip")
    out = []
    for role in roles:
        comp = modelset.spec.component(role)
        if comp is None:
            if role == "generator":
                out.append(f"model set '{modelset.name}' has no generator")
            continue
        try:
            modelset.path(comp.file)
        except (MissingModelFile, ModelFileMismatch) as exc:  # absent, or not the file the set pins
            out.append(str(exc))
    if _needs_stats(plan):
        out += missing_stats_files(modelset)
    return tuple(out)


def _needs_stats(plan: Plan) -> bool:
    """Whether a plan reads the global-direction statistics (its engines say: a global edit, or a
    masked or smoothed optimization)."""
    return any(isinstance(s, EditStep) and s.engine in IMPLEMENTATIONS and engine_for(s.engine).reads_global_stats(s)
               for s in plan.steps)


def missing_stats_files(modelset) -> list[str]:
    """The statistics files the set's YAML lists (``global_stats:``, e.g. FFHQ's ``fs3.npy`` and
    ``S_mean_std``) that are not on this machine, each with where to put it and how to prefetch it.
    A set that lists them runs with them: the runtime does not spend hours recomputing what is
    published (warm.py refuses with the same message)."""
    from ..modelsets.registry import MissingModelFile
    from ..modelsets.verified import ModelFileMismatch

    listed = modelset.spec.global_stats
    if not listed or modelset.shipped_global_stats():
        return []
    out = []
    for f in listed.values():
        try:
            modelset.path(f)
        except (MissingModelFile, ModelFileMismatch) as exc:
            out.append(f"{exc}\n  `styleclip models prefetch {modelset.name} --from DIR` copies it into place "
                       f"from a folder that holds it")
    return out


# -- sources -------------------------------------------------------------------------------------

def _source(ctx: _Context, step: SourceStep, line: int) -> StepCost:
    params = step.params
    if step.op == "generate":
        seeds = params.get("seeds")
        return StepCost(step.id, line, len(seeds) if isinstance(seeds, list) else 1)
    if step.op == "load":
        return _load(ctx, step, line)
    return _invert(ctx, step, line)


def _load(ctx: _Context, step: SourceStep, line: int) -> StepCost:
    """A latent file: read and checked against the generator as the run will (a file made for
    another generator is a problem now, not after the steps before it)."""
    from ..io.latents import LatentFileError, load_latents
    from ..models.stylegan2 import GeneratorConfig

    raw = step.params["path"]
    path = Path(raw) if Path(raw).is_absolute() else ctx.base / raw
    spec = ctx.modelset.spec
    if spec.generator is None:
        return StepCost(step.id, line, 0)
    config = GeneratorConfig(**{k: v for k, v in spec.generator.config.items()
                                if k in GeneratorConfig.__dataclass_fields__})
    try:
        batch = load_latents(path, config.n_latent, config.style_dim, ctx.fps.get("generator"))
    except LatentFileError as exc:
        return StepCost(step.id, line, 0, problems=(str(exc),))
    return StepCost(step.id, line, len(batch.wplus))


def _invert(ctx: _Context, step: SourceStep, line: int) -> StepCost:
    from .errors import StepError
    from ..io.image_input import expand_paths, select_faces

    spec = ctx.modelset.spec
    if spec.encoder is None:
        return StepCost(step.id, line, 0, problems=(f"model set '{spec.name}' has no encoder: it cannot invert",))
    size = int(spec.encoder.config.get("input_size", 256))
    paths: list[Path] = []
    problems: list[str] = []
    for pattern in step.params["paths"]:  # one at a time, so that one missing file hides no other
        try:
            paths.extend(expand_paths([pattern], ctx.base, step))
        except StepError as exc:
            problems.append(exc.message)
    needs: list[Need] = []
    align, face = spec.align, step.params.get("face")
    items = 0
    for path in paths:
        try:  # sets with `align:` find the faces now: how many, and no face is a problem before the run
            subjects = select_faces(ctx.digests.subjects(path, size, step, align), face, step)
        except StepError as exc:
            problems.append(exc.message)
            continue
        items += len(subjects)
        for subj in subjects:
            what = path.name if subj.face is None else f"{path.name} face {subj.face} of {subj.faces} (aligned: {align})"
            key = inversion_key(subj.sha256, subj.shape, ctx.fps)
            needs.append(_cached_or(ctx, "inversion", key, what, "compute", ctx.estimates.get("invert_per_image")))
    return StepCost(step.id, line, items if align else len(paths), tuple(needs), tuple(problems))


# -- edits ---------------------------------------------------------------------------------------

def _edit(ctx: _Context, step: EditStep, line: int, n_inputs: int) -> StepCost:
    runs = variants(step)
    problems: list[str] = []
    try:
        engine = engine_for(step.engine)
    except KeyError:  # a plan the compiler did not write: the run would stop here too
        return StepCost(step.id, line, 0, (), (f"unknown engine {step.engine!r}",))
    needs = engine.needs(step, runs, n_inputs, ctx, problems)
    return StepCost(step.id, line, n_inputs * len(runs), tuple(_unique(needs)), tuple(problems))


def _unique(needs: list[Need]) -> list[Need]:
    seen: set[tuple[str, str | None, str]] = set()
    out = []
    for n in needs:
        ident = (n.kind, n.key, n.what)
        if ident not in seen:
            seen.add(ident)
            out.append(n)
    return out


def _stats(ctx: _Context) -> Need | None:
    """The statistics need, the first time a step needs them (None afterwards)."""
    if ctx.stats_counted:
        return None
    ctx.stats_counted = True
    if ctx.modelset.shipped_global_stats():
        return Need("global-stats", "statistics and relevance table (fs3)", "shipped")
    if ctx.modelset.spec.global_stats:  # listed in the YAML, not on this machine: see missing_files
        names = ", ".join(f.filename for f in ctx.modelset.spec.global_stats.values())
        return Need("global-stats", f"statistics files ({names})", "missing")
    n_samples, n_images, k = ctx.modelset.global_stats_settings()
    key = stats_key(ctx.fps, n_samples, n_images, k)
    return _cached_or(ctx, "global-stats", key, f"{n_samples} samples, {n_images} images per channel", "compute",
                      ctx.estimates.get("global_stats"))


def _direction(ctx: _Context, text: str, neutral: str, beta: float, keep: tuple[str, ...] = ()) -> list[Need]:
    out = [n for n in [_stats(ctx)] if n is not None]
    stats = stats_identity(ctx.fps, *ctx.modelset.global_stats_settings())
    key = direction_key(ctx.fps, text, neutral, beta, stats, keep)
    what = f"{neutral!r} -> {text!r} at beta {beta:g}" + (f", keeping {', '.join(keep)}" if keep else "")
    out.append(_cached_or(ctx, "direction", key, what, "compute", ctx.estimates.get("direction")))
    return out


def _mapper(ctx: _Context, text: str, problems: list[str]) -> Need:
    from ..engines.mapper.latent_mapper import MapperTraining
    from ..modelsets.registry import MissingModelFile
    from ..modelsets.verified import ModelFileMismatch

    spec = ctx.modelset.spec
    try:
        if ctx.modelset.mapper_path(text) is not None:
            return Need("mapper", repr(text), "shipped")
    except (MissingModelFile, ModelFileMismatch) as exc:  # not on this machine, or damaged: the run would stop here
        problems.append(str(exc))
        return Need("mapper", repr(text), "missing")
    if ctx.modelset.user_mapper_path(text).exists():
        return Need("mapper", f"{text!r} (trained with `styleclip train mapper`)", "cached")
    if not spec.defaults.get("auto_train_mappers", False):
        problems.append(f"model set '{spec.name}' has no mapper for {text!r}: train one with "
                        f"`styleclip train mapper {text!r} --models {spec.name}`")
        return Need("mapper", repr(text), "missing")
    cfg = MapperTraining.from_defaults(spec.defaults)
    per_step = ctx.estimates.get("mapper_training_step")
    return _cached_or(ctx, "mapper", mapper_key(ctx.fps, text, cfg.as_opts(text)),
                      f"{text!r} ({cfg.steps} training steps)", "train",
                      per_step * cfg.steps if per_step is not None else None,
                      ctx.memory(cfg.batch))


def _cached_or(ctx: _Context, kind: str, key: str, what: str, otherwise: Status, seconds: float | None,
               memory: MemoryEstimate | None = None) -> Need:
    if ctx.cache.has(kind, key):
        return Need(kind, what, "cached", None, key)
    return Need(kind, what, otherwise, seconds, key, memory)
