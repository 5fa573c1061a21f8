"""The CLI: check / plan / fmt / --version, exit codes, stdin, and no torch on `check`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from styleclip_dsl import __version__
from styleclip_dsl.cli import app

runner = CliRunner()
GOOD = "invert photo.jpg; apply 'curly hair' via global alpha=4 beta=0.15; then mapper 'smile'\n"
BAD = "invert photo.jpg\nglobal 'x' bta=0.1\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"styleclip {__version__}"


def test_check_clean_and_bad_files(tmp_path):
    good, bad = write(tmp_path, "good.sc", GOOD + "save out/{name}.png\n"), write(tmp_path, "bad.sc", BAD)
    result = runner.invoke(app, ["check", good])
    assert result.exit_code == 0
    assert result.stdout == f"{good}: ok\n"
    result = runner.invoke(app, ["check", good, bad])
    assert result.exit_code == 2
    assert f"{bad}: 1 error" in result.stdout
    assert result.stderr.splitlines() == [
        f"{bad}:2:12: error: unknown parameter 'bta' for engine 'global'",
        "   2 | global 'x' bta=0.1",
        "     |            ^^^",
        "hint: did you mean 'beta'?",
    ]


def test_check_reads_stdin_and_reports_unreadable_files(tmp_path):
    result = runner.invoke(app, ["check", "-"], input=BAD)
    assert result.exit_code == 2
    assert "<stdin>:2:12: error: unknown parameter 'bta'" in result.stderr
    result = runner.invoke(app, ["check", str(tmp_path / "missing.sc")])
    assert result.exit_code == 2
    assert "cannot read it" in result.stderr


def test_plan_json_is_the_compiled_plan(tmp_path):
    result = runner.invoke(app, ["plan", write(tmp_path, "g.sc", GOOD), "--json", "--set", "seed=5"])
    assert result.exit_code == 0
    plan = json.loads(result.stdout)
    assert plan["seed"] == 5
    assert [(s["id"], s["kind"], s.get("engine")) for s in plan["steps"]] == [
        ("s1", "source", None), ("s2", "edit", "global"), ("s3", "edit", "mapper"),
    ]


def test_plan_table_and_errors(tmp_path):
    result = runner.invoke(app, ["plan", write(tmp_path, "g.sc", GOOD)])
    assert result.exit_code == 0
    import yaml

    toon = yaml.safe_load((Path(__file__).resolve().parents[2] / "runtime" / "modelsets" / "toon.yaml").read_text())
    smile = float(toon["engine_defaults"]["mapper"]["prompts"]["smile"]["strength"])
    assert f"mapper 'smile' strength={smile}" in result.stdout  # toon's own setting for the smile mapper
    result = runner.invoke(app, ["plan", write(tmp_path, "b.sc", BAD)])
    assert result.exit_code == 2
    result = runner.invoke(app, ["plan", write(tmp_path, "g2.sc", GOOD), "--set", "colour=red"])
    assert result.exit_code == 2
    assert "--set:1:1: error: unknown setting 'colour'" in result.stderr


def test_fmt_prints_check_and_write(tmp_path):
    path = write(tmp_path, "f.sc", "seed 1;invert  a.png # hi\n")
    result = runner.invoke(app, ["fmt", path])
    assert (result.exit_code, result.stdout) == (0, "seed 1\ninvert a.png  # hi\n")
    assert runner.invoke(app, ["fmt", "--check", path]).exit_code == 1
    assert runner.invoke(app, ["fmt", "--write", path]).exit_code == 0
    assert Path(path).read_text() == "seed 1\ninvert a.png  # hi\n"
    assert runner.invoke(app, ["fmt", "--check", path]).exit_code == 0
    assert runner.invoke(app, ["fmt", write(tmp_path, "s.sc", "global 'x' alpha=")]).exit_code == 2


def test_check_does_not_import_torch(tmp_path):
    """Nor pydantic (typer 0.29 checks parameters with it; pyproject pins typer below it): the heavy
    imports `check` must not pay for (issue #21's start-up budget)."""
    result = _check_in_a_fresh_process(write(tmp_path, "good.sc", GOOD),
                                       "'exit', code, 'torch' in sys.modules, 'pydantic' in sys.modules")
    assert result.stdout.strip().splitlines()[-1] == "exit 0 False False", result.stdout + result.stderr


def _check_in_a_fresh_process(path: str, printed: str) -> subprocess.CompletedProcess:
    """`styleclip check PATH` through the script's ``main`` in a new interpreter, which then prints
    ``printed`` (a Python expression list over ``sys`` and ``code``, the exit code)."""
    code = (
        "import sys\n"
        f"sys.argv = ['styleclip', 'check', {path!r}]\n"
        "from styleclip_dsl.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"print({printed})\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_bytes_that_are_not_utf8_are_a_located_error_for_every_command(tmp_path):
    """Issue #20 item 1: a recipe on stdin or in a file with a byte that is not UTF-8 is an error
    at its line and column, exit 2, never a UnicodeEncodeError when the text is printed."""
    data = b"use toon\nseed 1\ninvert a\xff.png\n"
    path = tmp_path / "bad.sc"
    path.write_bytes(data)
    for args in (["check", "-"], ["plan", "-"], ["fmt", "-"], ["check", str(path)], ["plan", str(path)],
                 ["fmt", "--write", str(path)]):
        result = runner.invoke(app, args, input=data)
        assert result.exit_code == 2, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        name = "<stdin>" if args[-1] == "-" else str(path)
        assert f"{name}:3:9: error: the recipe is not UTF-8 text (byte 0xff" in result.stderr, (args, result.stderr)
    assert path.read_bytes() == data  # fmt --write left it alone


def test_fmt_write_keeps_numbers_beyond_a_float_parseable(tmp_path):
    path = tmp_path / "big.sc"
    path.write_text("invert a.png\nglobal 'x'   alpha=1e999 beta=" + "9" * 5000 + "\n")
    result = runner.invoke(app, ["fmt", "--write", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text() == "invert a.png\nglobal 'x' alpha=1e999 beta=1e999\n"
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2:18: error: alpha: number out of range" in result.stderr


def test_the_script_imports_only_the_command_it_runs(tmp_path):
    """`styleclip check` does not import the other commands (the runtime's CLI, the REPL...): #21's
    start-up budget. The full app (``cli.app``, --help, a mistyped command) still has them all."""
    from styleclip_dsl import cli

    result = _check_in_a_fresh_process(write(tmp_path, "good.sc", GOOD),
                                       "code, sorted(m for m in sys.modules if m.startswith('styleclip_dsl.commands.'))")
    last = result.stdout.strip().splitlines()[-1]
    assert last == "0 ['styleclip_dsl.commands.check', 'styleclip_dsl.commands.recipe_input']", result.stderr
    assert cli.command_of(["--version"]) is None and cli.command_of(["chek", "x"]) is None
    assert cli.command_of(["plan", "--explain", "r.sc"]) == "plan"
    import typer.main

    assert set(typer.main.get_command(cli.app).commands) == set(cli.COMMANDS)
