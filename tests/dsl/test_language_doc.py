"""docs/language.md: every ```sc example is a complete recipe that checks clean."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from styleclip_dsl.api import check, compile_recipe

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
EXAMPLES = re.findall(r"^```sc\n(.*?)^```", DOC.read_text(), flags=re.S | re.M)


def test_the_doc_has_examples_for_each_construct():
    joined = "\n".join(EXAMPLES)
    for construct in ("use ", "seed ", "device ", "invert ", "generate ", "load ", "on ", "apply ", "via ",
                      "global ", "mapper ", "optimize ", "then ", "save ", "save grid", "save animation",
                      "export latent", "expect ", " step ", " count ", "[", " as "):
        assert construct in joined, construct


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_example_checks_and_compiles(example):
    recipe, diagnostics = check(example, "language.md")
    assert recipe is not None and diagnostics == [], [str(d) for d in diagnostics]
    plan, _ = compile_recipe(example, "language.md")
    assert plan is not None


def test_the_error_example_is_what_check_prints():
    from rich.console import Console

    from styleclip_dsl.diagnostics import render_diagnostics

    block = re.search(r"^```text\n(recipe\.sc:.*?)^```", DOC.read_text(), flags=re.S | re.M).group(1)
    text = "invert photo.jpg\nglobal 'x' bta=0.1\n"
    console = Console(record=True, width=200, color_system=None)
    render_diagnostics(check(text, "recipe.sc")[1], text, console)
    assert console.export_text() == block
