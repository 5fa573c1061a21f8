"""The events a run reports (``run_start``, ``step_start``, ``progress``, ``output``, ``expect``,
``notice``, ``warning``, ``step_end``, ``run_end``): one JSON-able dict each, sent to one callback.

Defined here, torch-free, so that the runtime that sends them and the front ends that show them
(the CLI's progress, ``--json``, the REPL, the notebook) name the same types."""
from __future__ import annotations

from typing import Any, Callable

Event = dict[str, Any]
EventSink = Callable[[Event], None]
