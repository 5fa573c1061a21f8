"""Autosave of REPL sessions (#20 item 2): every accepted line, undo and redo is on disk at once,
a session that did not finish is named at the next start, and --resume replays it (the command
line's --resume after kill -9 is tests/test_repl_pty.py's)."""
from __future__ import annotations

import io
import json
import os

from rich.console import Console

from styleclip_dsl.repl import autosave as autosaving
from styleclip_dsl.repl import ui
from styleclip_dsl.repl.session import ReplSession
from styleclip_dsl.repl.shell import Shell

from .fakes import FakeFactory


def make_shell(tmp_path) -> tuple[Shell, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False)
    session = ReplSession(FakeFactory(), base_dir=tmp_path, out_dir=tmp_path, preview_dir=tmp_path / "preview")
    return Shell(session, console, protocol="none"), buffer


def hook(shell: Shell, saver: autosaving.Autosave) -> None:
    shell.session.on_change = lambda: saver.write(shell.session)


def test_every_change_is_on_disk_at_once(tmp_path):
    shell, _ = make_shell(tmp_path)
    saver = autosaving.Autosave(tmp_path / "sessions")
    hook(shell, saver)
    shell.handle("generate seed=1 as a")
    assert autosaving.read_session(saver.path).entries == ("generate seed=1 as a",)
    shell.handle("global 'smile' alpha=2")
    shell.handle("gloabl 'typo'")  # refused: not saved
    assert autosaving.read_session(saver.path).entries == ("generate seed=1 as a", "global 'smile' alpha=2")
    shell.handle(":undo")
    assert autosaving.read_session(saver.path).entries == ("generate seed=1 as a",)
    shell.handle(":redo")
    saved = autosaving.read_session(saver.path)
    assert saved.entries == ("generate seed=1 as a", "global 'smile' alpha=2")
    assert not saved.finished and saved.base_dir == str(tmp_path)
    assert not list((tmp_path / "sessions").glob(".*.tmp"))  # written atomically, nothing left over


def test_a_session_that_did_not_finish_is_named_and_resumed(tmp_path):
    folder = tmp_path / "sessions"
    crashed = autosaving.Autosave(folder, started=1_000.0)
    crashed.path = folder / "19700101-001640-999999999.json"  # a pid that is not running
    first, _ = make_shell(tmp_path)
    first.handle("generate seed=2 as b")
    first.handle("global 'smile' alpha=1")
    crashed.write(first.session)  # and then the process died: no finish()

    finished = autosaving.Autosave(folder, started=500.0)
    finished.path = folder / "19700101-000820-999999998.json"
    finished.finish(first.session)
    assert autosaving.unfinished(folder) is not None and autosaving.unfinished(folder).path == crashed.path

    shell, screen = make_shell(tmp_path)
    accepted = ui.resume(shell, autosaving.latest(folder))
    assert accepted == 2
    assert shell.session.entries == ["generate seed=2 as b", "global 'smile' alpha=1"]
    assert f"resuming 2 line(s) from {crashed.path}" in screen.getvalue()

    crashed.finish(shell.session)
    assert autosaving.unfinished(folder) is None


def test_unreadable_files_are_skipped_and_refused_by_name(tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "a.json").write_text("[1, 2]")
    (folder / "b.json").write_text("{not json")
    (folder / "c.json").write_text(json.dumps({"format": 1, "entries": [1]}))
    assert autosaving.saved_sessions(folder) == []
    assert autosaving.latest(folder) is None
    for name in ("a.json", "b.json", "c.json"):
        try:
            autosaving.read_session(folder / name)
        except autosaving.AutosaveError as exc:
            assert name in str(exc)
        else:
            raise AssertionError(name)


def test_prune_keeps_the_newest(tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    for i in range(5):
        path = folder / f"{i}.json"
        path.write_text("{}")
        os.utime(path, (1000 + i, 1000 + i))
    autosaving.prune(folder, keep=2)
    assert sorted(p.name for p in folder.glob("*.json")) == ["3.json", "4.json"]


def test_a_disk_that_refuses_is_a_warning_not_a_crash(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    saver = autosaving.Autosave(blocker / "sessions")
    shell, _ = make_shell(tmp_path)
    shell.handle("generate seed=1")
    assert saver.write(shell.session) is False and saver.last_error is not None
