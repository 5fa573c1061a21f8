"""What the front ends (the REPL, the notebook, ``run``'s training gate) may ask of an executor.

``styleclip_runtime.execution.executor.Executor`` implements it; tests/dsl/repl/fakes.py fakes it. Torch-free,
so that the front end names the protocol without importing the runtime. Everything else about an
executor (its memo, the steps it ran, its decoded-image digests, its cache) is its own business.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Protocol

from .plan import Plan


@dataclass(frozen=True)
class ExecutorStats:
    """``disk``: the results cache's info (folder, entries, bytes by kind, limit);
    ``memo_steps``: step results held in memory; ``steps_run``: steps this executor has run."""

    disk: Any
    memo_steps: int
    steps_run: int


class ExecutorAPI(Protocol):
    """The executor as the REPL and the notebook see it. ``models`` are its warm models (the
    generator to render a preview, the model set's mapper prompts, the device)."""

    models: Any

    def run(self, plan: Plan | dict, recipe_text: str, base_dir: Path, out_dir: Path, *,
            write_manifest: bool = True, incremental: bool = False, rerun: Collection[str] = (),
            overwrite: bool = False) -> Any:
        """Run the plan (incrementally: only steps whose hash it has not run, plus ``rerun``);
        returns the run's report. ``overwrite``: replace existing files it did not write (never an input)."""
        ...

    def stop(self) -> None:
        """Ask the running step to stop at its next check (Ctrl-C in the REPL)."""
        ...

    def result(self, step_hash: str) -> list | None:
        """The items a source or edit step with this content hash produced, if held in memory."""
        ...

    def stats(self) -> ExecutorStats:
        """What it holds: the disk cache's info and the step results in memory."""
        ...

    def explain(self, plan: Plan | dict, base_dir: Path) -> Any:
        """``plan --explain`` on these warm models: what running the plan would load, compute or
        train (``styleclip_runtime.execution.explain.Explanation``); runs nothing."""
        ...
