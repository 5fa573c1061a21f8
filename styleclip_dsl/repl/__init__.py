"""The interactive REPL (``styleclip repl``).

``session.ReplSession`` holds the logic (accepted statements, undo/redo,
running lines on a warm executor, saving the session as a recipe) and knows
nothing about terminals; ``ui`` drives it with prompt_toolkit (or from a pipe),
``commands`` handles the ``:`` commands, ``completion`` and ``highlight`` feed
the prompt, ``preview`` draws images in the terminal, ``help`` holds the
``:help`` topics. Nothing here imports torch at import time.
"""
from __future__ import annotations

from .session import Outcome, ReplSession

__all__ = ["Outcome", "ReplSession"]
