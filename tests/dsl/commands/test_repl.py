"""`styleclip repl --overwrite` passes through to every run of the session, as `run --overwrite` does."""
from __future__ import annotations

import pytest
from typer.testing import CliRunner

from styleclip_dsl.cli import app
from styleclip_dsl.repl import session as session_module

from ..repl.fakes import FakeFactory


@pytest.fixture
def sessions(monkeypatch) -> list:
    """The REPL's sessions, on the fake executor (no models): each one the command made."""
    made: list = []

    class OnFakes(session_module.ReplSession):
        def __init__(self, **kwargs) -> None:
            super().__init__(FakeFactory(), **kwargs)
            made.append(self)

    monkeypatch.setattr(session_module, "ReplSession", OnFakes)
    return made


def test_repl_overwrite_replaces_a_foreign_file_and_only_then(tmp_path, sessions, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    foreign = tmp_path / "x.png"
    foreign.write_text("someone else's file")
    lines = "generate seed=1\nsave x.png\n:save kept.sc\n"
    refused = CliRunner().invoke(app, ["repl", "--out", str(tmp_path)], input=lines)
    assert refused.exit_code == 3, refused.output  # a runtime error: the file stays
    assert foreign.read_text() == "someone else's file" and not sessions[0].overwrite
    (tmp_path / "kept.sc").write_text("# mine\n")
    replaced = CliRunner().invoke(app, ["repl", "--out", str(tmp_path), "--overwrite"], input=lines)
    assert replaced.exit_code == 0, replaced.output
    assert "save x.png" in foreign.read_text()  # the fake writes the recipe text it ran
    assert "save x.png" in (tmp_path / "kept.sc").read_text()  # :save replaces without asking
    runs = sessions[1].executor.runs
    assert len(runs) == 3 and all(run["overwrite"] for run in runs)  # two lines, then :save's re-stamp
