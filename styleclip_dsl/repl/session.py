"""The REPL's state and logic, with no terminal in sight.

A session is an ordered list of accepted entries (the text the user typed,
one or more statements each). A new entry is compiled as the session's text
plus the entry, so it is checked against everything defined so far; if it
has errors nothing runs and the session is unchanged. Otherwise the compiled
plan runs *incrementally* on one warm executor: steps the executor already
ran (same content hash) are skipped, so only what the entry added runs. The
entry is accepted only when its steps all ran.

Because each line runs through the same compiler and executor as
``styleclip run``, the session saved as a recipe (``save``) reproduces the
session's images exactly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Literal

from ..api import compile_recipe, parse
from ..default_origins import default_origin_lines
from ..model_names import ModelNames
from ..defaults import DEFAULT_MODELSET
from ..diagnostics import Diagnostic
from ..events import Event, EventSink
from ..executor_api import ExecutorAPI
from ..formatter import format_recipe
from ..spans import Span
from ..training_gate import TrainingNeeds, might_train, needs_consent, trainings_of_run
from .tracking import SessionFacts, step_for_statement, track

ExecutorFactory = Callable[[str, "str | None", EventSink], ExecutorAPI]
# Asked before an entry that would train a mapper for long or for an unknown time
# (training_gate.needs_consent), with what it would train; the entry runs only when it says yes.
Consent = Callable[[TrainingNeeds], bool]
Status = Literal["ok", "empty", "invalid", "failed", "interrupted", "declined"]

SOURCE_NAME = "<repl>"
# Steps that write or measure: re-run whenever an entry (re)adds them, so a
# file on disk always matches the session that says it was written.
_EFFECT_KINDS = ("save", "export", "expect")


@dataclass
class Outcome:
    """What happened to one submitted entry.

    ``diagnostics`` point into ``entry`` (line 1 is the entry's first line);
    ``message`` holds an error that has no recipe position, or, for a ``declined`` entry (a
    training the consent callback refused: nothing ran), what it would have trained.
    """

    status: Status
    entry: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    message: str | None = None
    report: Any = None   # styleclip_runtime.execution.executor.RunReport when something ran

    @property
    def accepted(self) -> bool:
        return self.status in ("ok", "empty")

    @property
    def failed_expectations(self) -> list[Any]:
        return list(self.report.failed_expectations) if self.report is not None else []


@dataclass
class Preview:
    """A rendered result for ``:show``: pixels (HWC uint8; a grid when there are several items)."""

    subject: str
    step_id: str
    line: int
    items: int
    pixels: Any
    path: Path


@dataclass
class ModelsInfo:
    """What ``:models`` shows."""

    name: str
    description: str
    source: str
    device: str
    components: list[str]
    mappers: list[str]
    modelset_in_plan: str | None


@dataclass
class SavedRecipe:
    path: Path
    text: str
    restamped: list[Path]
    notes: list[str]


class ReplError(Exception):
    """A command that cannot do what was asked (nothing to show, nothing to undo...)."""


def default_executor_factory(modelset: str, device: str | None, events: EventSink) -> ExecutorAPI:
    from styleclip_runtime.execution.build_executor import open_executor

    return open_executor(modelset, device, events)


class ReplSession:
    """An interactive session: accepted entries, undo/redo, one warm executor."""

    def __init__(self, executor_factory: ExecutorFactory = default_executor_factory, *, models: str | None = None,
                 device: str | None = None, base_dir: Path | None = None, out_dir: Path | None = None,
                 preview_dir: Path | None = None, overwrite: bool = False) -> None:
        self.executor_factory = executor_factory
        # replace existing files styleclip did not write (`styleclip repl --overwrite`, as `run --overwrite`)
        self.overwrite = overwrite
        self.models = models
        self.device = device
        self.base_dir = Path(base_dir or Path.cwd())
        self.out_dir = Path(out_dir or Path.cwd())
        self.entries: list[str] = []
        self.redo_stack: list[str] = []
        self.event_sink: EventSink = lambda event: None
        self.executor: ExecutorAPI | None = None
        self._executor_key: tuple[str, str | None] | None = None
        self._plan: dict | None = None
        self._diagnostics: list[Diagnostic] = []
        self._preview_dir = preview_dir
        self._previews = 0
        # called after every change of the accepted entries (the interactive loop autosaves there)
        self.on_change: Callable[[], None] = lambda: None

    # -- the session as text -----------------------------------------------------
    @property
    def text(self) -> str:
        """The accepted entries, one after another (each ends with a newline)."""
        return "".join(entry + "\n" for entry in self.entries)

    @property
    def plan(self) -> dict | None:
        """The compiled plan (JSON data) of the accepted entries; None before the first."""
        return self._plan

    def default_origins(self) -> list[str]:
        """Where the parameters the session's edits leave out come from (the model set's
        ``engine_defaults`` or the engine's), one line per engine (``default_origin_lines``)."""
        plan, _ = compile_recipe(self.text, SOURCE_NAME, self._overrides(), names=self._names())
        return default_origin_lines(plan) if plan is not None else []

    def facts(self) -> SessionFacts:
        recipe, _ = parse(self.text, SOURCE_NAME)
        return track(recipe)

    def _model_file(self) -> str | None:
        models = self.models
        if models and (models.endswith((".yaml", ".yml")) or "/" in models):
            return models
        return None

    def _names(self) -> ModelNames | None:
        """Under ``--models FILE`` the recipe runs on that file whatever its ``use`` says, so its
        ``engine_defaults`` fill what an edit leaves out (as `styleclip run --models FILE` does)."""
        model_file = self._model_file()
        return ModelNames.discover(forced=model_file) if model_file else None

    def _overrides(self) -> dict[str, str]:
        if self.models and self._model_file() is None:
            return {"use": self.models}
        return {}

    def compile(self, text: str) -> tuple[dict | None, list[Diagnostic]]:
        plan, diagnostics = compile_recipe(text, SOURCE_NAME, self._overrides(), names=self._names())
        return (json.loads(plan.to_json()) if plan is not None else None), diagnostics

    # -- the executor ------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        self.event_sink(event)

    def executor_key(self, plan: dict | None) -> tuple[str, str | None]:
        """(model set name or YAML path, device) that ``plan`` runs on (``--models`` / ``--device`` win)."""
        plan = plan or {}
        modelset = self._model_file() or plan.get("modelset") or self.models or DEFAULT_MODELSET
        return modelset, self.device or plan.get("device")

    def executor_for(self, plan: dict | None) -> ExecutorAPI:
        """The warm executor for the plan's model set and device (a new one if they changed)."""
        key = self.executor_key(plan)
        if self.executor is None or key != self._executor_key:
            self.executor = None
            self.executor = self.executor_factory(key[0], key[1], self._emit)
            self._executor_key = key
        return self.executor

    def warm_up(self, components: tuple[str, ...] = ("generator", "clip")) -> list[str]:
        """Open the executor for the session's settings and load the named networks; returns their names."""
        executor = self.executor_for(self._plan)
        loaded = []
        for name in components:
            if getattr(executor.models, name, None) is not None:
                loaded.append(name)
        return loaded

    def explain(self, entry: str | None = None) -> tuple[Any, dict]:
        """(the runtime's Explanation, the plan it explains): the session's costs, or, with ``entry``,
        what typing ``entry`` would cost (only the steps it adds), without running anything."""
        import dataclasses

        text = self.text + (entry.strip("\n") + "\n" if entry else "")
        if not text.strip():
            raise ReplError("the session is empty: `:explain STATEMENTS` says what typing them would cost")
        plan, diagnostics = self.compile(text)
        if plan is None:
            errors = [d for d in diagnostics if d.severity == "error"]
            raise ReplError(errors[0].message if errors else "the statements do not compile")
        explanation = self.executor_for(plan).explain(plan, self.base_dir)
        if entry:
            known = {step["hash"] for step in (self._plan or {}).get("steps", [])}
            new_ids = {step["id"] for step in plan["steps"] if step["hash"] not in known}
            explanation = dataclasses.replace(explanation, steps=tuple(
                cost for cost in explanation.steps if cost.step_id in new_ids))
        return explanation, plan

    def request_stop(self) -> None:
        """Ask the running step to stop at its next check (Ctrl-C)."""
        if self.executor is not None:
            self.executor.stop()

    # -- entries ------------------------------------------------------------------------
    def submit(self, entry: str, consent: Consent | None = None) -> Outcome:
        """Check the entry against the session and run it; accept it only when it all ran. ``consent``:
        asked, on the plan compiled for the run, before the entry starts a long mapper training (the
        REPL asks at the prompt, the notebook answers with its ``train=``); an entry it refuses is
        ``declined`` and nothing runs. None: train without asking."""
        entry = "\n".join(line.rstrip() for line in entry.strip("\n").split("\n"))
        if not entry.strip():
            return Outcome("empty", entry)
        outcome = self._run_entry(entry, consent)
        if outcome.accepted:
            self.redo_stack.clear()
        return outcome

    def _run_entry(self, entry: str, consent: Consent | None = None) -> Outcome:
        offset = self.text.count("\n")
        candidate = self.text + entry + "\n"
        plan, diagnostics = self.compile(candidate)
        fresh = [d for d in diagnostics if d not in self._diagnostics]
        relocated = [relocate(d, offset, entry, self.text) for d in fresh]
        if plan is None:
            return Outcome("invalid", entry, relocated)
        refused = self._training_refused(entry, plan, consent)
        if refused is not None:
            return Outcome("declined", entry, relocated, message=refused.describe())
        try:
            report = self._execute(plan, candidate, offset)
        except KeyboardInterrupt:
            return Outcome("interrupted", entry, relocated)
        except Exception as exc:  # a REPL reports every failure and stays up
            return self._failure(exc, entry, offset, relocated)
        self.entries.append(entry)
        self._plan = plan
        self._diagnostics = diagnostics
        self.on_change()
        return Outcome("ok", entry, relocated, report=report)

    def _training_refused(self, entry: str, plan: dict, consent: Consent | None) -> TrainingNeeds | None:
        """The trainings ``plan`` would start when they need consent and ``consent`` refuses them, else None
        (only entries that mention an engine that trains are explained: ``training_gate.might_train``)."""
        if consent is None or not might_train(entry):
            return None
        try:
            needs = trainings_of_run(self.executor_for(plan), plan, self.base_dir)
        except Exception:  # no estimate never stops an entry; a step that cannot run says why when it runs
            return None
        if not needs_consent(needs) or consent(needs):
            return None
        return needs

    def _failure(self, exc: Exception, entry: str, offset: int, diagnostics: list[Diagnostic]) -> Outcome:
        from styleclip_runtime.execution.errors import Interrupted, StepError

        if isinstance(exc, Interrupted):
            return Outcome("interrupted", entry, diagnostics)
        if isinstance(exc, StepError):
            from ..commands.run import step_error_diagnostic

            diagnostic = relocate(step_error_diagnostic(exc, SOURCE_NAME), offset, entry, self.text)
            return Outcome("failed", entry, diagnostics + [diagnostic])
        message = str(exc) if isinstance(exc, (OSError, ValueError, RuntimeError)) \
            else f"{exc.__class__.__name__}: {exc}"
        return Outcome("failed", entry, diagnostics, message=message)

    def _execute(self, plan: dict, text: str, offset: int) -> Any:
        executor = self.executor_for(plan)
        rerun = {step["hash"] for step in plan["steps"]
                 if step["kind"] in _EFFECT_KINDS and step["span"]["line"] > offset}
        return executor.run(plan, text, self.base_dir, self.out_dir, write_manifest=False, incremental=True,
                            rerun=rerun, overwrite=self.overwrite)

    def undo(self) -> str:
        """Drop the last accepted entry (its results stay in memory, so redo is free)."""
        if not self.entries:
            raise ReplError("nothing to undo")
        entry = self.entries.pop()
        self.redo_stack.append(entry)
        self._recompile()
        self.on_change()
        return entry

    def redo(self) -> Outcome:
        """Re-submit the last undone entry (it re-writes its outputs; its edits come from memory)."""
        if not self.redo_stack:
            raise ReplError("nothing to redo")
        entry = self.redo_stack.pop()
        outcome = self._run_entry(entry)
        if not outcome.accepted:
            self.redo_stack.append(entry)
        return outcome

    def _recompile(self) -> None:
        if not self.entries:
            self._plan, self._diagnostics = None, []
            return
        self._plan, self._diagnostics = self.compile(self.text)

    def history(self) -> list[str]:
        return list(self.entries)

    # -- saving ---------------------------------------------------------------------------
    def recipe_text(self) -> str:
        """The session as a recipe: formatted, unless formatting would change the plan."""
        text = self.text
        recipe, diagnostics = parse(text, SOURCE_NAME)
        if recipe is None or any(d.is_error for d in diagnostics):
            return text
        formatted = format_recipe(recipe)
        before, _ = self.compile(text)
        after, _ = self.compile(formatted)
        if before is None or after is None or _hashes(before) != _hashes(after):
            return text
        return formatted

    def save(self, path: Path, restamp: bool = True) -> SavedRecipe:
        """Write the session as a recipe to ``path``.

        With ``restamp``, the session's images are written again from memory
        with the saved text as their embedded recipe (the pixels do not
        change), so they are byte for byte what ``styleclip run`` of the saved
        file writes.
        """
        if not self.entries:
            raise ReplError("the session is empty: nothing to save")
        path = Path(path)
        text = self.recipe_text()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        notes = self._path_notes(path)
        restamped: list[Path] = []
        if restamp:
            plan, _ = self.compile(text)
            if plan is not None and any(s["kind"] in ("save", "export") for s in plan["steps"]):
                restamped = self._restamp(plan, text)
        return SavedRecipe(path, text, restamped, notes)

    def _restamp(self, plan: dict, text: str) -> list[Path]:
        writes = dict(plan, steps=[s for s in plan["steps"] if s["kind"] != "expect"])
        executor = self.executor_for(plan)
        sink, self.event_sink = self.event_sink, (lambda event: None)
        try:
            report = executor.run(writes, text, self.base_dir, self.out_dir, write_manifest=False,
                                  incremental=False, overwrite=self.overwrite)
        finally:
            self.event_sink = sink
        return list(report.outputs)

    def _path_notes(self, path: Path) -> list[str]:
        folder = path.resolve().parent
        if folder == self.base_dir.resolve():
            return []
        facts_recipe, _ = parse(self.text, SOURCE_NAME)
        from .. import ast

        relative = [p.value for s in (facts_recipe.statements if facts_recipe else ())
                    for p in (s.paths if isinstance(s, ast.Invert) else (s.path,) if isinstance(s, ast.Load) else ())
                    if not Path(p.value).is_absolute()]
        if not relative:
            return []
        return [f"input paths ({', '.join(relative)}) are relative to {self.base_dir}; "
                f"`styleclip run` resolves them against {folder}"]

    # -- results -----------------------------------------------------------------------------
    def show(self, subject: str | None = None) -> Preview:
        """Render the latest result of ``subject`` (default: the current subject) and write it as a PNG."""
        facts = self.facts()
        name = subject or facts.current
        if name is None:
            raise ReplError("nothing to show yet: define a subject first (invert, generate or load)")
        if name not in facts.latest:
            from ..suggest import did_you_mean

            hint = did_you_mean(name, facts.subjects, "subjects: " + ", ".join(facts.subjects))
            raise ReplError(f"no subject '{name}'" + (f" ({hint})" if hint else ""))
        step = step_for_statement(self._plan or {}, facts.latest[name])
        items = None if step is None or self.executor is None else self.executor.result(step["hash"])
        if items is None:
            raise ReplError(f"the result of '{name}' is not in memory (the model set changed?): re-run its line")
        pixels = self._render(items)
        path = self._preview_path(name, step["id"])
        from styleclip_runtime.io.outputs import save_png

        save_png(path, pixels)
        return Preview(name, step["id"], step["span"]["line"], len(items), pixels, path)

    def _render(self, items: list) -> Any:
        from styleclip_runtime.execution.executor import group_by_source
        from styleclip_runtime.io.outputs import make_grid, to_uint8
        from styleclip_runtime.execution.state import render

        models = self.executor.models
        pixels = to_uint8(render(models.generator, items, models.device,  # the path `save` renders on
                                 path=getattr(models, "synthesis_path", "fast")))
        if len(items) == 1:
            return pixels[0]
        position = {id(item): i for i, item in enumerate(items)}
        rows = [[pixels[position[id(item)]] for item in group] for group in group_by_source(items)]
        if all(len(row) == 1 for row in rows):  # a batch without variants reads best as one row
            rows = [[row[0] for row in rows]]
        return make_grid(rows, scale=1)

    def _preview_path(self, subject: str, step_id: str) -> Path:
        if self._preview_dir is None:
            from .preview import preview_folder

            self._preview_dir = preview_folder()  # removed when the process exits
        self._previews += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in subject)
        return self._preview_dir / f"{self._previews:03d}-{safe}-{step_id}.png"

    # -- state for completion and the info commands ------------------------------------------
    def mapper_prompts(self) -> list[str]:
        if self.executor is None:
            return []
        try:
            return list(self.executor.models.modelset.mapper_prompts())
        except Exception:
            return []

    def known_prompts(self) -> list[str]:
        """Prompts with a mapper in the model set, then those this session has edited with."""
        out = self.mapper_prompts()
        out += [p for p in self.facts().prompts if p not in out]
        return out

    def models_info(self) -> ModelsInfo:
        executor = self.executor or self.executor_for(self._plan)
        models = executor.models
        spec = getattr(models.modelset, "spec", None)
        components = [c for c in ("generator", "encoder", "clip", "identity", "judge")
                      if spec is not None and getattr(spec, c, None) is not None]
        return ModelsInfo(models.name, getattr(spec, "description", ""), str(getattr(spec, "source", "")),
                          str(models.device), components, self.mapper_prompts(),
                          (self._plan or {}).get("modelset"))

    def cache_info(self) -> dict[str, Any]:
        stats = (self.executor or self.executor_for(self._plan)).stats()
        return {"disk": stats.disk, "memo_steps": stats.memo_steps, "steps_run": stats.steps_run}


def _hashes(plan: dict) -> list[str]:
    return [s["hash"] for s in plan["steps"]]


def relocate(diagnostic: Diagnostic, offset: int, entry: str, session_text: str) -> Diagnostic:
    """A diagnostic on the session text + entry, moved to point into the entry (line 1 = its first line).

    A finding about an earlier line keeps its place and shows that line of the session.
    """
    span = diagnostic.span
    if diagnostic.context is not None:
        return diagnostic
    if span.line > offset:
        moved = Span(span.line - offset, span.column, max(span.end_line - offset, 1), span.end_column)
        return replace(diagnostic, span=moved, context=entry)
    return replace(diagnostic, source_name="<session>", context=session_text)
