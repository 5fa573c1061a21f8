"""Training (styleclip_zoo) stays apart from serving: the runtime never imports it, even lazily.
Checked on the source, so an import inside a function counts. (That the front end imports without
torch is checked by running it: tests/dsl/test_cli.py.)"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute module an import statement in ``path`` names, with its line."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def _offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, name in _imports(path)
        if name.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize(
    "folder, forbidden",
    [
        ("runtime", ("styleclip_zoo",)),  # serving never imports training
        ("grammar", ("styleclip_runtime", "styleclip_zoo", "styleclip_dsl")),  # data only
    ],
)
def test_no_upward_or_sideways_import(folder, forbidden):
    assert _offenders(folder, forbidden) == []


def test_the_check_sees_an_offending_import(tmp_path, monkeypatch):
    bad = tmp_path / "runtime" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("def f():\n    from styleclip_zoo.toon import render\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _offenders("runtime", ("styleclip_zoo",)) == ["runtime/bad.py:2 imports styleclip_zoo.toon"]
