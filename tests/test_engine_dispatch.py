"""No engine if-chains outside the engine packages: the checker, compiler, explain, the executor,
the cluster and the caches reach an engine through the registries (styleclip_dsl/engines/registry.py,
runtime/engines/registry.py). Checked on the source (AST): a comparison of something named
``engine`` with an engine's name, or a ``case`` on one, is an offence anywhere else."""
from __future__ import annotations

import ast
from pathlib import Path

from styleclip_dsl.engines.registry import ENGINES

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("styleclip_dsl", "runtime")
ENGINE_PACKAGES = ("styleclip_dsl/engines", "runtime/engines")


def _mentions_engine(node: ast.AST) -> bool:
    """``engine``, ``step.engine``, ``step["engine"]``, ``step.get("engine")`` and the like."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and "engine" in sub.id.lower():
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "engine":
            return True
        if isinstance(sub, ast.Constant) and sub.value == "engine":
            return True
    return False


def _names_an_engine(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Constant) and sub.value in ENGINES for sub in ast.walk(node))


def _offences(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_mentions_engine(s) for s in sides) and any(_names_an_engine(s) for s in sides):
                lines.append(node.lineno)
        elif isinstance(node, ast.Match) and _mentions_engine(node.subject):
            if any(_names_an_engine(case.pattern) for case in node.cases):
                lines.append(node.lineno)
    return sorted(lines)


def _offenders(root: Path) -> list[str]:
    out = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(ENGINE_PACKAGES):
                continue
            out += [f"{rel}:{line}" for line in _offences(path)]
    return out


def test_no_engine_if_chains_outside_the_engine_packages() -> None:
    assert _offenders(ROOT) == []


def test_the_check_sees_an_if_chain(tmp_path) -> None:
    bad = tmp_path / "runtime" / "execution" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text('def f(step, s):\n'
                   '    if step.engine == "global":\n        pass\n'
                   '    ok = s.get("engine") in ("mapper", "optimize")\n'
                   '    match step.engine:\n        case "mapper":\n            pass\n'
                   '    return step.kind == "mapper"\n')  # a Need's kind, not an engine: allowed
    fine = tmp_path / "runtime" / "engines" / "mapper" / "engine.py"
    fine.parent.mkdir(parents=True)
    fine.write_text('def g(step):\n    return step.engine == "mapper"\n')
    assert _offenders(tmp_path) == ["runtime/execution/bad.py:2", "runtime/execution/bad.py:4",
                                    "runtime/execution/bad.py:5"]
