"""The evaluation protocol: three disjoint subject sets, the report set large enough and used only by
the report, and the card's edit table drawn from it."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from styleclip_zoo.toon.eval_protocol import (
    REPORT, REPORT_MIN_SUBJECTS, SETS, TUNING, VALIDATION, z_overlap,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_three_sets_are_disjoint():
    assert len({s.seed for s in SETS.values()}) == 3
    for a in SETS.values():
        assert z_overlap(a, a) == a.pool  # the check finds every shared z
        for b in SETS.values():
            if a is not b:
                assert z_overlap(a, b) == 0, (a.name, b.name)


def _calls(path: Path, names: tuple[str, ...]) -> list[ast.Call]:
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) in names]


def test_engine_tests_take_their_subjects_from_the_tuning_or_validation_set():
    """Every subject-drawing call names its set, and no test but this one names the report set."""
    effects = ROOT / "tests" / "runtime" / "engines" / "test_toon_effects.py"
    calls = _calls(effects, ("sample_subjects", "subjects_without"))
    assert calls, "the engine tests draw subjects through edit_eval"
    for call in calls:
        named = [a.id for a in call.args if isinstance(a, ast.Name)]
        named += [k.value.id for k in call.keywords if k.arg == "subjects" and isinstance(k.value, ast.Name)]
        assert set(named) & {"TUNING", "VALIDATION"}, ast.unparse(call)
    for path in (ROOT / "tests").rglob("*.py"):
        if path.name != Path(__file__).name:
            assert not re.search(r"\bREPORT\b", path.read_text()), f"{path} uses the report set"


def test_the_cards_edit_table_comes_from_the_report_set():
    card = (ROOT / "docs" / "toon.md").read_text()
    assert f"report set (seed {REPORT.seed}" in card
    counts = [int(n) for n in re.findall(r"; n (\d+)", card)]
    assert counts and min(counts) > 0
    assert f"{REPORT_MIN_SUBJECTS} subjects per prompt" in card
    assert f"tuning set (seed {TUNING.seed})" in card and f"validation set (seed {VALIDATION.seed})" in card


def _report_tables(card: str) -> dict[str, tuple[str, list[list[str]]]]:
    """The card's report block: per kind (documented, defaults), the prose before its table and the rows."""
    block = card.split("<!-- the report table:", 1)[1].split("<!-- /the report table -->", 1)[0]
    out = {}
    for kind, part in zip(("documented", "defaults"), re.split(r"\n(?=\*At the set's defaults\*)", block)):
        rows = [[c.strip() for c in line.strip("|").split("|")] for line in part.splitlines()
                if line.startswith("| ") and not line.startswith("| prompt") and "---" not in line]
        out[kind] = (part.split("\n|", 1)[0], rows)
    return out


def test_the_cards_report_block_holds_both_tables_whole_and_counts_what_they_show():
    """Both tables are there, every engine x prompt cell scored on the protocol's minimum of subjects, and
    the 'prompts passing' the prose states are the bold cells (a table lost from the card fails here)."""
    from styleclip_zoo.toon.edit_eval import ENGINE_PROMPTS, ENGINES

    tables = _report_tables((ROOT / "docs" / "toon.md").read_text())
    assert set(tables) == {"documented", "defaults"}
    for kind, (prose, rows) in tables.items():
        assert [r[0] for r in rows] == list(ENGINE_PROMPTS), kind
        assert all(len(r) == 1 + len(ENGINES) for r in rows), kind
        cells = [c for r in rows for c in r[1:]]
        assert all(int(re.search(r"; n (\d+)$", c).group(1)) >= REPORT_MIN_SUBJECTS for c in cells), kind
        stated = dict(re.findall(r"(global|mapper|optimize) (\d) of 8", " ".join(prose.split())))
        bold = {e: sum(r[1 + k].startswith("**") for r in rows) for k, e in enumerate(ENGINES)}
        assert {e: int(n) for e, n in stated.items()} == bold, kind
