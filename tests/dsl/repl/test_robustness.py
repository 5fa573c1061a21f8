"""No input ends a REPL session (#20 item 2): garbage lines, hostile numbers, bytes that are not
UTF-8, commands with odd arguments and bugs in the session itself all come back as messages; the
accepted lines (the history) stay as they were and the next good line runs. (:undo and :redo,
which change the history on purpose, are tested in test_shell.py.)"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from styleclip_dsl.repl import ui
from styleclip_dsl.repl.session import ReplSession
from styleclip_dsl.repl.shell import Shell

from ..test_properties import PIECES
from .fakes import FakeFactory

HOSTILE_LINES = [
    "seed " + "9" * 5000, "global 'x' alpha=" + "9" * 4400, "global 'x' alpha=1e999", "expect distance() > 1e999",
    "global 'x' alpha=0..1e308 step 1e-308", "invert a\udcff.png", "\udcc3\udca9", "[/]", "[bold]x[/bold",
    ":save ''", ":save '", ":save \x00", ":save /", ":show [/]", ":show \udcff", ":help [/x]", ":explain [/]",
    ":explain seed " + "9" * 5000, ":history", ":plan", ":", ": ", ":save", "global 'boom'",
    "optimize 'slow'", "then", "\x00", "\x1b[31m", "'" * 3, "generate seeds=0..99999999 step 1",
]
lines = st.one_of(
    st.sampled_from(HOSTILE_LINES),
    st.lists(st.sampled_from(PIECES + HOSTILE_LINES[:8]), max_size=12).map("".join),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=3),
)


def make_shell(folder: Path) -> tuple[Shell, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False)
    session = ReplSession(FakeFactory(), base_dir=folder, out_dir=folder, preview_dir=folder / "preview")
    return Shell(session, console, protocol="none"), buffer


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(lines, min_size=1, max_size=6))
def test_no_line_ends_the_session_and_the_history_is_kept(garbage):
    with tempfile.TemporaryDirectory() as tmp:
        shell, _ = make_shell(Path(tmp))
        assert shell.handle("generate seed=1 as a").ok
        for line in garbage:
            before = list(shell.session.entries)
            handled = shell.handle(line)  # must not raise
            if handled.kind == "entry" and not handled.ok:
                assert shell.session.entries == before  # a line that failed is not kept
        assert shell.session.entries[0] == "generate seed=1 as a"
        shell.handle("on a")
        count = len(shell.session.entries)
        assert shell.handle("global 'smile' alpha=1").ok  # and the next good line runs
        assert len(shell.session.entries) == count + 1


def test_a_bug_in_the_session_is_an_internal_error_not_a_crash(tmp_path, monkeypatch):
    shell, screen = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok

    def broken(entry: str, consent=None):
        raise ZeroDivisionError("a bug [/]")

    monkeypatch.setattr(shell.session, "submit", broken)
    handled = shell.handle("global 'smile'")
    assert not handled.ok
    out = screen.getvalue()
    assert "internal error: ZeroDivisionError: a bug [/]" in out
    assert "the session is unchanged" in out
    assert shell.session.entries == ["generate seed=1"]
    monkeypatch.undo()
    assert shell.handle("global 'smile'").ok


def test_a_line_that_is_not_utf8_is_a_located_error(tmp_path):
    from styleclip_dsl.repl.shell import encoding_problem

    shell, screen = make_shell(tmp_path)
    handled = shell.handle("generate seed=1\ninvert a\udcff.png")
    assert not handled.ok
    assert "<repl>:2:9: error: the line is not UTF-8 text (byte 0xff)" in screen.getvalue()
    assert shell.session.entries == []
    assert encoding_problem("plain é text", "<repl>") is None


def test_a_runtime_message_with_markup_is_printed_as_it_is(tmp_path, monkeypatch):
    shell, screen = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    from styleclip_dsl.repl import session as session_module

    def failing(self, plan, text, offset):
        raise OSError("cannot write out/[/]x.png")

    monkeypatch.setattr(session_module.ReplSession, "_execute", failing)
    assert not shell.handle("save out/x.png").ok
    assert "error: cannot write out/[/]x.png" in screen.getvalue()


def test_piped_bytes_that_are_not_utf8_stop_the_script_with_a_located_error(tmp_path):
    shell, screen = make_shell(tmp_path)
    code = ui.piped(shell, [b"generate seed=1\n", b"global 'smile' alpha=\xff\n", b"save out/a.png\n"])
    assert code == ui.EXIT_INVALID
    out = screen.getvalue()
    assert "<stdin>:2:22: error: the recipe is not UTF-8 text (byte 0xff invalid start byte)" in out
    assert not (tmp_path / "out" / "a.png").exists()


@pytest.mark.parametrize("line", [":save ''", ":save '", ":save \x00"])
def test_odd_save_arguments_are_errors(tmp_path, line):
    shell, screen = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    assert not shell.handle(line).ok
    out = screen.getvalue()
    assert "error" in out and "internal error" not in out
    if line == ":save ''":
        assert "usage: :save FILE" in out
