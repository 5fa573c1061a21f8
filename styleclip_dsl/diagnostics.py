"""Diagnostics: errors and warnings as values, with spans and hints, and their rendering.

Only the CLI and the REPL call ``render_diagnostics``; everything else passes
diagnostics along as values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from rich.console import Console
from rich.text import Text

from .spans import Span

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a recipe.

    ``code`` is a short stable id ("E-unknown-param", "W-overwrite", ...).
    ``context`` is the text the span points into when that is not the recipe
    itself (a ``--set`` override); renderers use it instead of the source.
    """

    message: str
    hint: str | None
    span: Span
    source_name: str
    severity: Severity = "error"
    code: str = "E-error"
    context: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        """``file:line:col`` (1-based)."""
        return f"{self.source_name}:{self.span.line}:{self.span.column}"

    def __str__(self) -> str:
        text = f"{self.location()}: {self.severity}: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Source order (stable for findings at the same place)."""
    return sorted(diagnostics, key=lambda d: (d.span.line, d.span.column))


class DiagnosticSink:
    """Collects diagnostics for one source (owned by one check or compile call)."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.items.append(Diagnostic(message, hint, span, self.source_name, "error", code))

    def warning(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.items.append(Diagnostic(message, hint, span, self.source_name, "warning", code))


_STYLES = {"error": "bold red", "warning": "bold yellow"}


def render_diagnostic(diagnostic: Diagnostic, source_text: str) -> Text:
    """``file:line:col: error: message``, the source line, carets under the span, ``hint: ...``."""
    out = Text()
    out.append(diagnostic.location(), style="bold")
    out.append(": ")
    out.append(diagnostic.severity, style=_STYLES.get(diagnostic.severity, "bold"))
    out.append(f": {diagnostic.message}\n")
    text = diagnostic.context if diagnostic.context is not None else source_text
    lines = text.split("\n")
    span = diagnostic.span
    if 1 <= span.line <= len(lines):
        line = lines[span.line - 1].rstrip("\r").expandtabs(1)
        gutter = f"{span.line:>4} | "
        out.append(gutter, style="dim")
        out.append(line + "\n")
        start = max(span.column, 1)
        end = span.end_column if span.end_line == span.line else len(line) + 1
        width = max(end - start, 1)
        out.append(" " * (len(gutter) - 2) + "| ", style="dim")
        out.append(" " * (start - 1) + "^" * width + "\n", style=_STYLES.get(diagnostic.severity, "bold"))
    if diagnostic.hint:
        out.append("hint", style="bold cyan")
        out.append(f": {diagnostic.hint}\n")
    return out


def render_diagnostics(diagnostics: Iterable[Diagnostic], source_text: str, console: Console) -> None:
    for diagnostic in diagnostics:
        console.print(render_diagnostic(diagnostic, source_text), end="", soft_wrap=True, highlight=False)
