"""The executor: runs a compiled plan (a typed ``styleclip_dsl.plan.Plan``) on warm models.

It knows nothing about recipe syntax: it matches on the plan's typed steps in order,
keeps each step's items in memory (keyed by the step's content hash, so a
REPL session re-running an unchanged prefix costs nothing), writes outputs
atomically, evaluates expectations, and reports events to one callback
(rich progress in the CLI, JSON lines with ``--json``, the REPL's output).
"""
from __future__ import annotations

import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Callable

import torch

from styleclip_dsl.events import Event, EventSink
from styleclip_dsl.executor_api import ExecutorStats
from styleclip_dsl.naming import ITEM_LABEL_KEYS
from styleclip_dsl.save_paths import GOLDEN_HINT
from styleclip_dsl.plan import EditStep, ExpectStep, ExportStep, Plan, SaveStep, SourceStep, Step, as_plan

from . import edits, expect_metrics as metrics, sources
from ..cache.result_cache import atomic_write_bytes
from .errors import Interrupted, StepError
from ..io.image_input import ImageDigests
from ..io.latents import LatentBatch, save_latents
from .report import ExpectResult, RunReport, describe  # noqa: F401  (torch-free: also a replayed run's)
from ..io.animation import AnimationOptions, encode_animation
from ..io.outputs import OutputGuard, OutputRefused, make_grid, metadata_for, photo_cell, to_uint8
from ..io.stills import encode_still
from .state import Item, render
from .warm import WarmModels

SLOW_SECONDS = 30.0  # a run whose uncached work is estimated at this or more starts with a notice

__all__ = ["Event", "EventSink", "Executor", "ITEM_LABEL_KEYS", "RunReport", "ExpectResult"]


class Executor:
    """Holds the warm models and the in-memory step results of one process."""

    def __init__(self, models: WarmModels, events: EventSink = lambda e: None) -> None:
        self.models = models
        self.events = events
        self.memo: dict[str, list[Item]] = {}
        self.images: dict[str, torch.Tensor] = {}
        self.stop_requested = False
        self.done: set[str] = set()   # hashes of the steps run by this executor
        self.image_digests = ImageDigests()  # input images decoded once per file version (image_input.py)
        self.source_files: dict[str, tuple | None] = {}  # source step hash -> the files it read (identity)

    # -- the front ends' protocol (styleclip_dsl.executor_api.ExecutorAPI) ----------
    def stop(self) -> None:
        """Ask the running step to stop at its next check (Ctrl-C in the REPL)."""
        self.stop_requested = True

    def result(self, step_hash: str) -> list[Item] | None:
        """The items of the source or edit step with this content hash, if held in memory."""
        return self.memo.get(step_hash)

    def stats(self) -> ExecutorStats:
        """The disk cache's info and the step results this executor holds."""
        return ExecutorStats(self.models.cache.info(), len(self.memo), len(self.done))

    def explain(self, plan: Plan | dict, base_dir: Path):
        """What running ``plan`` would load, compute or train on these models (``explain.Explanation``)."""
        from .explain import explain_plan

        return explain_plan(plan, self.models.modelset, self.models.cache, base_dir,
                            torch.device(self.models.device).type, self.image_digests)

    # ------------------------------------------------------------------
    def _estimate(self, plan: Plan, base_dir: Path):
        """What the run must compute (``explain``), or None where it cannot tell."""
        if getattr(self.models, "modelset", None) is None or getattr(self.models, "cache", None) is None:
            return None
        try:
            return self.explain(plan, base_dir)
        except Exception:  # an estimate never stops a run; the step that cannot run says why
            return None

    def _warn_of_cost(self, cost) -> None:
        """A notice before the run when it must train or compute something slow (the field's users
        asked to be told before a 10-hour mapper training or hours of preprocessing start)."""
        from .explain import format_duration

        slow = [n for n in cost.needs if n.status == "train" or (n.kind == "global-stats" and n.status == "compute")
                or (n.seconds or 0) >= SLOW_SECONDS]
        total = cost.estimated_seconds()
        if not slow and (total or 0) < SLOW_SECONDS:
            return
        parts = [f"{n.status} {n.kind} {n.what}" + (" unless cached" if n.status == "on-input" else "")
                 for n in slow]
        when = f"about {format_duration(total)} on {cost.device}" if total is not None else "no estimate for this device"
        self.events({"event": "notice", "message": f"this run may take a while ({when}): "
                     + "; ".join(parts or ["many small results"]) + " (`styleclip plan --explain` lists it all)"})

    def run(self, plan: Plan | dict, recipe_text: str, base_dir: Path, out_dir: Path,
            update_golden: bool = False, write_manifest: bool = True, incremental: bool = False,
            rerun: Collection[str] = (), recipe_path: Path | None = None, overwrite: bool = False,
            record_outputs: bool = False, outputs_key: str | None = None) -> RunReport:
        """Run every step of ``plan`` (a ``Plan``, or its JSON data). With ``incremental`` (the REPL), steps
        this executor already ran (same content hash) are skipped: a session
        re-runs only what its new line added. ``rerun``: step hashes that run
        even so (the REPL's output steps of the line just typed, which must
        write their files again). Outputs stay inside ``out_dir`` and never replace
        ``recipe_path``, an input, or (without ``overwrite``) a file this program did not
        write (``outputs.OutputGuard``). ``record_outputs``: file the run's outputs in the output
        cache (``cache_outputs``), so that the same run is next served without torch; ``outputs_key``: the
        key a replay attempt already worked out for this plan, recipe and base folder (``Replay.key``), else
        None and it is worked out here."""
        start = time.perf_counter()
        self.stop_requested = False
        data = plan if isinstance(plan, dict) else plan.to_dict()  # for the output cache's key and run.json
        plan = as_plan(plan)
        torch.manual_seed(int(plan.seed or 0))
        report = RunReport()
        by_id: dict[str, Step] = {}
        cost = None if incremental else self._estimate(plan, base_dir)
        self.events({"event": "run_start", "steps": len(plan.steps), "modelset": self.models.name,
                     "device": str(self.models.device),
                     "estimated_seconds": cost.estimated_seconds() if cost is not None else None})
        if cost is not None:
            self._warn_of_cost(cost)
        self._forget_changed_sources(plan, base_dir)
        if not record_outputs or incremental:
            outputs_key = None
        elif outputs_key is None:  # no replay attempt hashed the inputs already
            outputs_key = self._outputs_key(data, recipe_text, base_dir)
        read = {Path(f[0]) for files in self.source_files.values() if files for f in files}
        self.guard = OutputGuard(out_dir, read | ({Path(recipe_path).resolve()} if recipe_path else set()),
                                 overwrite)
        for step in plan.steps:
            by_id[step.id] = step
            h = step.hash
            if incremental and h in self.done and h not in rerun:
                continue
            t0 = time.perf_counter()
            line = step.span.line
            self.events({"event": "step_start", "id": step.id, "kind": step.kind, "line": line,
                         "label": describe(step)})
            info: dict = {}
            try:
                info = self._run_step(step, plan, recipe_text, base_dir, out_dir, report, update_golden, by_id)
            except (StepError, Interrupted):
                raise
            except metrics.MetricError as exc:
                raise StepError(str(exc), step) from exc
            except KeyboardInterrupt as exc:
                raise Interrupted() from exc
            except Exception as exc:
                raise StepError(f"{exc.__class__.__name__}: {exc}", step) from exc
            self.done.add(h)
            seconds = time.perf_counter() - t0
            timing = {"id": step.id, "kind": step.kind, "line": line, "seconds": round(seconds, 4), **info}
            report.timings.append(timing)
            self.events({"event": "step_end", **timing})
        report.seconds = time.perf_counter() - start
        if write_manifest:
            from .manifest import manifest_dir, write_manifest as _write

            try:  # run.json obeys the outputs' rules: never a foreign file, an input or outside --out
                self.guard.claim(manifest_dir(report.outputs, out_dir) / "run.json")
            except OutputRefused as exc:
                self.events({"event": "warning", "message": f"run.json not written: {exc.message}"})
            else:
                report.manifest = _write(data, recipe_text, self.models, report, out_dir, base_dir)
        if outputs_key is not None:
            from ..cache.keys import with_synthesis_path
            from ..cache.output_cache import record_run

            record_run(self.models.cache, with_synthesis_path(outputs_key, self._path()), out_dir, report)
        self.events({"event": "run_end", "seconds": round(report.seconds, 3),
                     "outputs": [str(p) for p in report.outputs],
                     "expectations_failed": len(report.failed_expectations),
                     "expectations": len(report.expectations)})
        return report

    def _outputs_key(self, plan: dict, recipe_text: str, base_dir: Path) -> str | None:
        """The output cache's key for this run, worked out before it reads its inputs; None when it
        cannot be replayed or the models are not a model set's."""
        from ..cache.output_cache import run_key

        modelset, cache = getattr(self.models, "modelset", None), getattr(self.models, "cache", None)
        if getattr(modelset, "spec", None) is None or cache is None or not cache.enabled:
            return None
        return run_key(plan, recipe_text, base_dir, modelset.spec, self.models.fingerprints(),
                       getattr(modelset, "_env", None))

    # ------------------------------------------------------------------
    def _forget_changed_sources(self, plan: Plan, base_dir: Path) -> None:
        """A plan's hashes cover the paths a source reads, not the files' contents. When the files
        of a remembered ``invert`` or ``load`` changed since it ran (edited, added to a glob, removed),
        forget it and every result computed from it, so that they run again (the REPL, or any
        executor that runs twice)."""
        hash_of = {s.id: s.hash for s in plan.steps}
        stale: set[str] = set()
        for step in plan.steps:
            h = step.hash
            if isinstance(step, SourceStep) and step.op in ("invert", "load"):
                files = sources.file_identity(step, base_dir)
                if h in self.source_files and self.source_files[h] != files:
                    stale.add(h)
                self.source_files[h] = files
            elif any(hash_of.get(i) in stale for i in step.inputs):
                stale.add(h)
        for h in stale:
            self.memo.pop(h, None)
            self.images.pop(h, None)
            self.done.discard(h)

    def _progress(self, step: Step) -> Callable[[int, int, str], None]:
        def progress(done: int, total: int, message: str = "") -> None:
            self.events({"event": "progress", "id": step.id, "done": done, "total": total, "message": message})
        return progress

    def _notify(self, message: str) -> None:
        self.events({"event": "notice", "message": message})

    def _should_stop(self) -> bool:
        return self.stop_requested

    def _run_step(self, step: Step, plan: Plan, recipe_text: str, base_dir: Path, out_dir: Path,
                  report: RunReport, update_golden: bool, by_id: dict[str, Step]) -> dict:
        """Run one typed step; returns its info for the timings and events."""
        h = step.hash
        m = self.models
        match step:
            case SourceStep():
                if h in self.memo:
                    report.photos.extend(sources.photo_records(self.memo[h]))
                    return {"cache": "memory"}
                info: dict = {}
                if step.op == "invert":
                    items, info = sources.invert(m, step, base_dir, m.cache, m.device, self.image_digests)
                    report.photos.extend(sources.photo_records(items))  # run.json: what the encoder saw, and how
                    info = {"inversion_cache_hits": info["hits"], "inversion_cache_misses": info["misses"]}
                elif step.op == "generate":
                    items = sources.generate(m, step, m.device)
                elif step.op == "load":
                    items = sources.load(m, step, base_dir)
                else:
                    raise StepError(f"unknown source {step.op!r}", step)
                self.memo[h] = items
                return info
            case EditStep():
                if h in self.memo:
                    return {"cache": "memory"}
                inputs = self._input(step, by_id)
                items, info = edits.run_edit(m, step, inputs, m.device, self._notify, self._progress(step),
                                             self._should_stop)
                self.memo[h] = items
                return info
            case SaveStep():
                paths = self._save(step, self._input(step, by_id), plan, recipe_text, out_dir,
                                   self._render_key(step, by_id))
                return self._outputs(step, paths, report)
            case ExportStep():
                return self._outputs(step, self._export(step, self._input(step, by_id), out_dir), report)
            case ExpectStep():
                result = self._expect(step, self._input(step, by_id), base_dir, update_golden,
                                      self._render_key(step, by_id))
                report.expectations.append(result)
                self.events({"event": "expect", **result.as_dict()})
                return {"passed": result.passed}
        raise StepError(f"unknown step kind {step.kind!r}", step)

    def _outputs(self, step: Step, paths: list[Path], report: RunReport) -> dict:
        report.outputs.extend(paths)
        for p in paths:
            self.events({"event": "output", "path": str(p), "id": step.id})
        return {"outputs": [str(p) for p in paths]}

    def _input(self, step: EditStep | SaveStep | ExportStep | ExpectStep, by_id: dict[str, Step]) -> list[Item]:
        src = by_id.get(step.input)
        if src is None:
            raise StepError(f"step {step.id} reads {step.input}, which has not run", step)
        return self.memo[src.hash]

    @staticmethod
    def _render_key(step: SaveStep | ExpectStep, by_id: dict[str, Step]) -> str:
        """The render memo's key for a step's input: that step's content hash, as ``memo``'s."""
        return by_id[step.input].hash

    def _images(self, items: list[Item], key: str) -> torch.Tensor:
        if key not in self.images:
            self.images[key] = render(self.models.generator, items, self.models.device, path=self._path())
        return self.images[key]

    def _path(self) -> str:
        """The synthesis path of the results' renders (``WarmModels.synthesis_path``; ``fast`` for
        models without one)."""
        return getattr(self.models, "synthesis_path", "fast")

    def _sources_of(self, items: list[Item]) -> list[Item]:
        return [it.root for it in items]

    # -- outputs -------------------------------------------------------------------
    def _save(self, step: SaveStep, items: list[Item], plan: Plan, recipe_text: str, out_dir: Path,
              render_key: str) -> list[Path]:
        if step.mode == "aligned":
            return self._save_aligned(step, items, plan, recipe_text, out_dir)
        images = self._images(items, render_key)
        pixels = to_uint8(images)
        fps = self.models.fingerprints()
        seed = int(plan.seed or 0)
        line = step.span.line
        mode = step.mode
        written: list[Path] = []
        if mode == "image":
            targets = self._claim(unique_paths(out_dir, step.path, [self._labels(it) for it in items]), step)
            for it, px, path in zip(items, pixels, targets):
                atomic_write_bytes(path, encode_still(path.suffix, px, metadata_for(
                    recipe_text, step.id, line, seed, fps, self._labels(it), _version())))
                written.append(path)
            return written
        groups = group_by_source(items)
        if mode == "grid":
            src_items = [g[0].root for g in groups]
            src_px = to_uint8(render(self.models.generator, src_items, self.models.device, path=self._path()))
            rows, row_labels = [], []
            pos = {id(it): i for i, it in enumerate(items)}
            photos = [photo_cell(g[0].root.photo, spx) for g, spx in zip(groups, src_px)]  # inverted: the input
            for (members), spx, photo in zip(groups, src_px, photos):
                rows.append(([photo] if any(p is not None for p in photos) else []) + [spx]
                            + [pixels[pos[id(it)]] for it in members])
                row_labels.append(members[0].name)
            col_labels = (["photo", "inversion"] if any(p is not None for p in photos) else ["source"]) \
                + [column_label(it) for it in groups[0]]
            grid = make_grid(rows, row_labels, col_labels)
            path = self._claim([resolve_output(out_dir, step.path, {"subject": items[0].subject})], step)[0]
            atomic_write_bytes(path, encode_still(path.suffix, grid, metadata_for(
                recipe_text, step.id, line, seed, fps, {"grid": [it.name for it in items]}, _version())))
            return [path]
        if mode == "animation":
            pos = {id(it): i for i, it in enumerate(items)}
            targets = self._claim(unique_paths(out_dir, step.path, [self._labels(g[0]) for g in groups]), step)
            for members, path in zip(groups, targets):
                frames = [pixels[pos[id(it)]] for it in members]
                atomic_write_bytes(path, encode_animation(
                    path.suffix, frames, [column_label(it) for it in members],
                    AnimationOptions.from_params(step.params), f"styleclip-dsl {step.id} line {line}"))
                written.append(path)
            return written
        raise StepError(f"unknown save mode {mode!r}", step)

    def _export(self, step: ExportStep, inputs: list[Item], out_dir: Path) -> list[Path]:
        """Latent files: the path's placeholders are filled per item ({name}, {index}, {alpha}, ...);
        the items whose filled paths agree share one file (a path with none holds the whole batch)."""
        g = self.models.generator
        groups: dict[Path, list[Item]] = {}
        for it in inputs:
            groups.setdefault(resolve_output(out_dir, step.path, self._labels(it)), []).append(it)
        claimed = self._claim(list(groups), step)
        for path, members in zip(claimed, groups.values()):
            offs = None
            if any(it.s_offset is not None for it in members):
                offs = [torch.stack([it.s_offset[l.index] if it.s_offset is not None else torch.zeros(l.width)
                                     for it in members]) for l in g.layout]
            save_latents(path, LatentBatch(torch.stack([it.wplus for it in members]), [it.name for it in members],
                                           "W+", self.models.fingerprints().get("generator"), offs))
        return claimed

    def _save_aligned(self, step: SaveStep, items: list[Item], plan: Plan, recipe_text: str,
                      out_dir: Path) -> list[Path]:
        """``save aligned PATH``: each subject's photo as the encoder saw it (the FFHQ-aligned face
        for sets with ``align: ffhq``, else the centre crop), once per subject, whatever the edits."""
        roots = [g[0].root for g in group_by_source(items)]
        if any(r.photo is None for r in roots):
            raise StepError(f"`save aligned` needs photos: '{roots[0].subject}' was not inverted from images", step,
                            hint="save aligned follows an `invert PATH`")
        line = step.span.line
        targets = self._claim(unique_paths(out_dir, step.path, [self._labels(r) for r in roots]), step)
        for root, path in zip(roots, targets):
            atomic_write_bytes(path, encode_still(path.suffix, root.photo.image(), metadata_for(
                recipe_text, step.id, line, int(plan.seed or 0), self.models.fingerprints(),
                {**self._labels(root), "photo": root.photo.path, "face": root.photo.face}, _version())))
        return targets

    def _claim(self, paths: list[Path], step: Step) -> list[Path]:
        """Every path of one output step, checked before any of them is written (``OutputGuard``)."""
        claimed = []
        for path in paths:
            try:
                path, notice = self.guard.claim(path)
            except OutputRefused as exc:
                raise StepError(exc.message, step, exc.hint) from exc
            if notice:
                self.events({"event": "warning", "message": notice})
            claimed.append(path)
        return claimed

    def _labels(self, item: Item) -> dict:
        return {"name": item.name, "subject": item.subject, "index": item.index, **item.labels}

    def _expect(self, step: ExpectStep, items: list[Item], base_dir: Path, update_golden: bool,
                render_key: str) -> ExpectResult:
        images = self._images(items, render_key)
        sources_img = render(self.models.generator, self._sources_of(items), self.models.device,
                             path=self._path())
        line = step.span.line
        metric, args, kwargs = step.metric, list(step.args), dict(step.kwargs)
        u8 = list(to_uint8(images))
        labels = [self._labels(it) for it in items]
        if metric == "golden" and update_golden:
            paths = metrics.golden_paths(str(args[0]), labels, base_dir)
            root = Path(base_dir).resolve()
            for golden in paths:  # `check` refuses these too; a link made since, or a filled path, stops here
                if not golden.resolve().is_relative_to(root):
                    raise StepError(f"golden image {golden} resolves to {golden.resolve()}, outside the recipe's "
                                    f"folder {root}; nothing was written", step, GOLDEN_HINT)
            metrics.write_golden(paths, u8)
            for golden in paths:
                self._notify(f"updated golden image {golden}")
        values = metrics.evaluate(self.models, metric, args, kwargs, images, sources_img, u8, base_dir, labels)
        target = step.value
        measured = [(it.name + variant_suffix(it), v) for it, v in zip(items, values)]
        item_passed = [metrics.compare(v, step.op, target) for v in values]
        return ExpectResult(step.id, line, metric, step.op, target,
                            [(n, round(v, 6) if isinstance(v, float) else v) for n, v in measured],
                            all(item_passed), item_passed=item_passed)


# ---------------------------------------------------------------------------
# Labels every item carries are ITEM_LABEL_KEYS (styleclip_dsl.naming); any other label is a swept parameter.

def column_label(item: Item) -> str:
    swept = [k for k in item.labels if k not in ITEM_LABEL_KEYS]
    if swept:
        return ", ".join(f"{k}={item.labels[k]:g}" if isinstance(item.labels[k], (int, float))
                         else f"{k}={item.labels[k]}" for k in swept)
    return str(item.labels.get("chain") or item.labels.get("text") or "result")


def variant_suffix(item: Item) -> str:
    swept = [k for k in item.labels if k not in ITEM_LABEL_KEYS]
    return "".join(f"({k}={item.labels[k]:g})" if isinstance(item.labels[k], (int, float)) else f"({k}={item.labels[k]})" for k in swept)


def group_by_source(items: list[Item]) -> list[list[Item]]:
    groups: dict[int, list[Item]] = {}
    order: list[int] = []
    for it in items:
        key = id(it.root)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(it)
    return [groups[k] for k in order]


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, labels: dict) -> str:
    """Placeholders filled as ``styleclip check`` fills them (``styleclip_dsl.save_paths``)."""
    from styleclip_dsl.save_paths import fill as fill_path

    return fill_path(template, labels)


def resolve_output(out_dir: Path, template: str, labels: dict) -> Path:
    p = Path(fill(template, labels))
    return p if p.is_absolute() else out_dir / p


def unique_paths(out_dir: Path, template: str, labels: list[dict]) -> list[Path]:
    """One path per item; when a template without placeholders would make
    several items overwrite one file, the item name is appended."""
    paths = [resolve_output(out_dir, template, lab) for lab in labels]
    if len(set(paths)) < len(paths):
        fixed = []
        for p, lab in zip(paths, labels):
            extra = fill("_{name}", lab) + "".join(f"_{k}{fill('{' + k + '}', lab)}" for k in lab
                                                   if k not in ITEM_LABEL_KEYS)
            fixed.append(p.with_name(p.stem + extra + p.suffix))
        if len(set(fixed)) < len(fixed):
            fixed = [p.with_name(f"{p.stem}_{i}{p.suffix}") for i, p in enumerate(fixed)]
        paths = fixed
    return paths


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("styleclip-dsl")
    except Exception:
        return "unknown"
