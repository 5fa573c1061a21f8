"""docs/ci.md stays true: its workflow is valid YAML that caches the real cache folder,
every styleclip option it uses exists, and its exit-code table matches the code."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from typer.testing import CliRunner

from styleclip_dsl.cli import app
from styleclip_dsl.commands.ci_results import EXIT_FOR_STATUS
from styleclip_runtime.modelsets.registry import cache_root

DOC = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text()


def workflow() -> dict:
    [block] = re.findall(r"```yaml\n(.*?)```", DOC, re.S)
    return yaml.safe_load(block)


def test_the_workflow_caches_the_folder_styleclip_uses():
    job = workflow()["jobs"]["recipes"]
    cache = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/cache"))
    cached = Path(cache["with"]["path"].replace("~", str(Path.home())))
    assert cached == cache_root({"STYLECLIP_CACHE": job["env"]["STYLECLIP_CACHE"]})
    assert cached == cache_root({})  # also the default without the variable


def test_every_styleclip_option_in_the_workflow_exists():
    runs = [s["run"] for s in workflow()["jobs"]["recipes"]["steps"] if "run" in s]
    commands = [shlex.split(r) for r in runs if r.strip().startswith("styleclip")]
    assert any(c[:2] == ["styleclip", "test"] for c in commands)
    for words in commands:
        sub = [w for w in words[1:3] if not w.startswith("-") and w in ("test", "check", "models", "prefetch")]
        help_text = CliRunner().invoke(app, [*sub, "--help"], env={"COLUMNS": "200"}).output
        for option in (w for w in words if w.startswith("--")):
            assert option in help_text, f"{' '.join(words)}: {option} is not an option of styleclip {' '.join(sub)}"


def test_the_exit_code_table_matches_the_code():
    rows = dict(re.findall(r"^\| (\d+) \| ([^|]+) \|$", DOC, re.M))
    assert set(rows) == {"0", "1", "2", "3", "130"}
    assert "every expectation held" in rows[str(EXIT_FOR_STATUS["passed"])]
    assert "expectation failed" in rows[str(EXIT_FOR_STATUS["failed"])]
    assert "invalid" in rows[str(EXIT_FOR_STATUS["invalid"])]
    assert "runtime error" in rows[str(EXIT_FOR_STATUS["error"])]
