"""Every recipe example in README.md and docs/*.md does what its text says, on the toon set's shipped
photos and generated subjects, as the judge sees it (issue #24 item 6).

The convention (docs/language.md, "Examples in these pages"):

- a ```` ```sc ```` block is a recipe example, and what it claims is written in it, in the language:
  its ``expect`` lines (``expect attribute(expression) == 'smile'``: the judge's verdict). It runs
  here from the repository's root, on the toon set with its ``engine_defaults``, and every
  expectation must hold;
- a ```` ```python ```` block's recipe is the text of its ``s.run("...")`` calls, in order (the
  notebook API runs them the same way), under the same rule;
- a block whose first line is ``# syntax only`` illustrates syntax and is not run (it is still
  checked and compiled); there are exactly ``SYNTAX_ONLY`` of them, so none is exempted silently.

One warm executor serves the whole module; results go through the session's result cache.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.model_names import ModelNames

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = "# syntax only"
SYNTAX_ONLY = 6   # the blocks marked `# syntax only` in README.md and docs/*.md; change it with the docs

BLOCK = re.compile(r"^```(sc|python)[^\n]*\n(.*?)^```", flags=re.S | re.M)
RUN_CALL = re.compile(r"""\bs\.run\(\s*"((?:[^"\\]|\\.)*)\"""")


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    recipe: str
    entries: tuple[str, ...] = ()   # a python block's s.run texts, in order

    @property
    def python(self) -> bool:
        return bool(self.entries)

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def syntax_only(self) -> bool:
        return self.recipe.lstrip().startswith(MARKER)


def find_examples() -> list[Example]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            body = m.group(2)
            if m.group(1) == "python":
                calls = tuple(c.encode().decode("unicode_escape") for c in RUN_CALL.findall(body))
                if calls:
                    found.append(Example(doc.relative_to(ROOT).as_posix(), line, "\n".join(calls) + "\n", calls))
                continue
            found.append(Example(doc.relative_to(ROOT).as_posix(), line, body))
    return found


EXAMPLES = find_examples()
RUNNABLE = [e for e in EXAMPLES if not e.syntax_only]


def _compile(example: Example):
    plan, diagnostics = compile_recipe(example.recipe, example.name, names=ModelNames.discover())
    errors = [str(d) for d in diagnostics if d.severity == "error"]
    assert plan is not None and not errors, errors
    return plan


def test_examples_are_found_and_the_exempt_ones_counted():
    docs = {e.doc for e in EXAMPLES}
    assert {"README.md", "docs/language.md", "docs/api.md"} <= docs
    assert sum(e.syntax_only for e in EXAMPLES) == SYNTAX_ONLY, [e.name for e in EXAMPLES if e.syntax_only]
    assert len(RUNNABLE) >= 8


@pytest.mark.parametrize("example", RUNNABLE, ids=[e.name for e in RUNNABLE])
def test_a_runnable_example_states_its_claim(example: Example):
    """An example that is run says what it does with `expect attribute(...)`, the judge's verdict."""
    assert re.search(r"^expect attribute\(", example.recipe, flags=re.M), (
        f"{example.name}: add an `expect attribute(...)` line saying what the example does, "
        f"or start the block with `{MARKER}`")


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.syntax_only],
                         ids=[e.name for e in EXAMPLES if e.syntax_only])
def test_a_syntax_only_example_compiles(example: Example):
    _compile(example)


@pytest.fixture(scope="module")
def executor():
    from styleclip_runtime.execution.build_executor import open_executor

    return open_executor("toon", "cpu")


RECIPES = [e for e in RUNNABLE if not e.python]
NOTEBOOK = [e for e in RUNNABLE if e.python]


@pytest.mark.parametrize("example", RECIPES, ids=[e.name for e in RECIPES])
def test_the_recipe_example_does_what_it_says(example: Example, executor, tmp_path):
    """As `styleclip run` runs it: compiled with the installed sets' engine_defaults."""
    plan = _compile(example)
    report = executor.run(plan, example.recipe, ROOT, tmp_path, write_manifest=False)
    assert report.expectations, f"{example.name} ran no expectation"
    failed = [f"line {e.line}: {e.metric} {e.op} {e.target!r}: {e.measured}" for e in report.failed_expectations]
    assert not failed, f"{example.name} does not do what it says:\n" + "\n".join(failed)


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    import styleclip_dsl as sc

    return sc.Session("toon", device="cpu", out_dir=tmp_path_factory.mktemp("doc-session"), base_dir=ROOT,
                      echo=None)


@pytest.mark.parametrize("example", NOTEBOOK, ids=[e.name for e in NOTEBOOK])
def test_the_notebook_example_does_what_it_says(example: Example, session):
    """As the notebook API runs it: each s.run(...) an entry of one session (forgotten afterwards)."""
    results = []
    try:
        for entry in example.entries:
            results.append(session.run(entry))
    finally:
        for _ in results:
            session.undo()
    expectations = [e for r in results for e in r.expectations]
    assert expectations, f"{example.name} ran no expectation"
    failed = [f"{e.metric} {e.op} {e.target!r}: {e.measured}" for e in expectations if not e.passed]
    assert not failed, f"{example.name} does not do what it says:\n" + "\n".join(failed)
