"""docs/architecture.md's engine parameter table says what the engine registry (styleclip_dsl/engines/) says."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from styleclip_dsl.constraints import Bound, OneOf
from styleclip_dsl.engines.registry import ENGINES

ENGINE_PARAMS = {name: dict(spec.params) for name, spec in ENGINES.items()}

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
ROW = re.compile(r"^\| (\w+) \| (\w+) \| (.+?) \| (.+?) \|$", re.M)


def _rows() -> dict[tuple[str, str], tuple[str, str]]:
    rows: dict[tuple[str, str], tuple[str, str]] = {}
    for engine, param, default, constraint in ROW.findall(DOC.read_text()):
        if engine in ENGINE_PARAMS:
            assert (engine, param) not in rows, f"{engine} {param} appears twice"
            rows[(engine, param)] = (default, constraint)
    return rows


ROWS = _rows()
PARAMS = [(engine, name) for engine, table in ENGINE_PARAMS.items() for name in table]


def test_the_table_has_a_row_for_every_parameter_and_no_other():
    assert sorted(ROWS) == sorted(PARAMS)


@pytest.mark.parametrize(("engine", "name"), PARAMS, ids=[f"{e}.{n}" for e, n in PARAMS])
def test_row_gives_the_default_and_the_constraint(engine, name):
    spec = ENGINE_PARAMS[engine][name]
    default, constraint = ROWS[(engine, name)]
    if spec.type == "string":
        assert json.loads(default) == spec.default
    else:
        assert float(default) == spec.default
        assert ("." in default) == (spec.type == "number"), f"{default} written as the wrong type"
    if isinstance(spec.constraint, Bound):
        assert spec.constraint.describe() in constraint
    elif isinstance(spec.constraint, OneOf):
        assert sorted(re.findall(r'"([^"]+)"', constraint)) == sorted(spec.constraint.options)
    else:
        assert constraint.startswith(spec.type)
