"""What a recipe *file* is checked for beyond the language, the same in `check`, `plan`, `run` and `test`.

``check_recipe`` knows the text only. A file also has a folder: a ``golden('...')``
path that resolves outside it through a symbolic link is an ``E-golden-path``
error (``--update-golden`` would write there; ``..`` and absolute paths are the
checker's). And a file that would run but saves, exports and tests nothing gets
``W-no-output`` (the REPL and the notebook, where results are shown, do not).
Torch-free; reads only the folders on the golden paths' way.
"""
from __future__ import annotations

from pathlib import Path

from . import ast
from .checker import missing_output_warning
from .diagnostics import Diagnostic, has_errors, sort_diagnostics
from .parser import parse_recipe
from .save_paths import GOLDEN_HINT, golden_link_problem, golden_path_problem


def golden_link_diagnostics(recipe: ast.Recipe, source_name: str, recipe_dir: Path) -> list[Diagnostic]:
    """An ``E-golden-path`` error at each ``golden('...')`` path that resolves outside ``recipe_dir``."""
    out: list[Diagnostic] = []
    for statement in recipe.statements:
        if not (isinstance(statement, ast.Expect) and statement.metric.name == "golden" and statement.args):
            continue
        arg = statement.args[0]
        if not isinstance(arg, (ast.Text, ast.Word)) or not arg.value.strip() or golden_path_problem(arg.value):
            continue  # the checker's error
        problem = golden_link_problem(arg.value, recipe_dir)
        if problem is not None:
            out.append(Diagnostic(problem, GOLDEN_HINT, arg.span, source_name, "error", "E-golden-path"))
    return out


def file_diagnostics(text: str, source_name: str, diagnostics: list[Diagnostic], recipe_dir: Path,
                     recipe: ast.Recipe | None = None) -> list[Diagnostic]:
    """``diagnostics`` (the language's, from ``api.check`` or ``api.compile_recipe``) with what the file
    adds, sorted, each once. ``recipe``: the parsed text when the caller has it (else it is parsed)."""
    if recipe is None:
        recipe, _ = parse_recipe(text, source_name)
    if recipe is None:
        return sort_diagnostics(diagnostics)
    extra = golden_link_diagnostics(recipe, source_name, recipe_dir)
    if not has_errors(diagnostics + extra):  # only for a recipe that would run
        nothing_saved = missing_output_warning(recipe, source_name)
        if nothing_saved is not None and nothing_saved.code not in {d.code for d in diagnostics}:
            extra.append(nothing_saved)
    return sort_diagnostics(diagnostics + extra)
