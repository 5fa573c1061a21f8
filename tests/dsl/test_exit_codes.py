"""Exit codes come from styleclip_dsl/exit_codes.py: no command, REPL or runtime module spells one as a number."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from styleclip_dsl.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "styleclip_dsl").rglob("*.py")) + sorted((ROOT / "runtime").rglob("*.py"))
EXITS = {"Exit", "SystemExit", "exit"}  # typer.Exit(2), raise SystemExit(3), sys.exit(1)


def _literal_exits(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in EXITS:
            continue
        literals = [n for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, int)]
        if literals:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_exit_is_a_bare_number():
    found = [hit for path in SOURCES for hit in _literal_exits(path)]
    assert found == []


def test_the_scan_finds_a_bare_number(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sys, typer\nraise typer.Exit(2)\nsys.exit(0 if ok else 1)\nraise typer.Exit(ExitCode.OK)\n")
    assert [hit.split(": ", 1)[1] for hit in _literal_exits(bad, tmp_path)] == [
        "typer.Exit(2)", "sys.exit(0 if ok else 1)"]


def test_the_readme_names_the_codes_run_and_test_use():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("Exit codes of `run` and `test`"):]
    section = section[:section.index("\n\n")]
    said: dict[str, str] = {}
    for code, word in re.findall(r"(\d+) ([a-z]+)", section):
        said.setdefault(code, word)
    assert said[str(ExitCode.OK)] == "done"
    assert said[str(ExitCode.FAILED)] == "an"  # "1 an expectation failed"
    assert said[str(ExitCode.INVALID)] == "invalid"
    assert said[str(ExitCode.RUNTIME)] == "runtime"
