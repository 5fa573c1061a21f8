"""docs/toon.md is a model card whose rebuild commands exist; the docs' links stay inside the repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CARD = (DOCS / "toon.md").read_text()
CODE_LINES = [line for block in re.findall(r"^```\n(.*?)^```", CARD, flags=re.S | re.M) for line in block.splitlines()]


def test_the_card_is_short_and_keeps_its_sections():
    assert len(CARD.splitlines()) <= 300
    headings = re.findall(r"^## (.+)$", CARD, flags=re.M)
    assert headings == ["What is in it", "How it was built", "Measured figures", "Limits", "How to rebuild it"]
    assert (DOCS / "toon-log.md").is_file() and "(toon-log.md)" in CARD


def _flags(line: str) -> list[str]:
    return re.findall(r"(--[a-z][a-z0-9-]*)", line.split("#")[0])


@pytest.mark.parametrize("line", [line for line in CODE_LINES if line.startswith("python -m ")])
def test_each_module_it_runs_exists_with_the_options_it_names(line):
    module = line.split()[2]
    assert module.startswith("styleclip_zoo."), "the trainers live in the zoo package"
    source = ROOT / "zoo" / Path(*module.split(".")[1:]).with_suffix(".py")
    text = source.read_text()
    assert "__main__" in text, f"{module} cannot be run"
    for flag in _flags(line):
        assert f'"{flag}"' in text, f"{module} has no {flag}"


def test_the_build_command_has_the_options_it_names():
    from typer.testing import CliRunner

    from styleclip_dsl.cli import app

    build = next(line for line in CODE_LINES if line.startswith("styleclip zoo build"))
    help_text = CliRunner().invoke(app, ["zoo", "build", "--help"], env={"COLUMNS": "200"}).output
    for flag in _flags(build):
        assert flag in help_text, flag
    steps = re.search(r"--steps (\S+)", build).group(1).strip("[]")
    assert f"in order: {steps})" in help_text  # the card lists every step, in the build's order


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")) + [ROOT / "README.md"], ids=lambda p: p.name)
def test_relative_links_and_paths_stay_in_the_repository(doc):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name}: {target}"
    assert "../shared/" not in text, f"{doc.name} points into the development tree"
