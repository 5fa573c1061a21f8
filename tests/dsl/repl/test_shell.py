"""The shell over a fake executor: ':' commands, printed outcomes, and the
piped mode's echo and exit codes (those of `styleclip run`)."""
from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from styleclip_dsl.defaults import ENGINE_PARAMS
from styleclip_dsl.repl import ui
from styleclip_dsl.repl.session import ReplSession
from styleclip_dsl.repl.shell import Shell

from .fakes import FakeFactory


class Screen:
    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, width=120, color_system=None, highlight=False)

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


@pytest.fixture()
def screen() -> Screen:
    return Screen()


@pytest.fixture()
def shell(tmp_path, screen) -> Shell:
    session = ReplSession(FakeFactory(), base_dir=tmp_path, out_dir=tmp_path, preview_dir=tmp_path / "preview")
    return Shell(session, screen.console, protocol="blocks")


def test_a_typo_prints_the_caret_and_hint_and_the_fix_runs(shell, screen):
    shell.handle("generate seed=1")
    screen.take()
    handled = shell.handle("gloabl 'smile'")
    out = screen.take()
    assert not handled.ok
    assert "<repl>:1:1: error: unknown statement 'gloabl'" in out
    assert "   1 | gloabl 'smile'\n     | ^^^^^^\n" in out
    assert "hint: did you mean 'global'?" in out
    assert "the session is unchanged" in out
    assert shell.handle("global 'smile'").ok
    assert shell.session.entries[-1] == "global 'smile'"


def test_help_lists_commands_and_engine_topics_cover_every_parameter(shell, screen):
    assert shell.handle(":help").ok
    out = screen.take()
    for command in (":plan", ":explain", ":show", ":undo", ":redo", ":history", ":save", ":models", ":cache", ":quit"):
        assert command in out
    assert "[topic]" in out  # not eaten as markup
    assert shell.handle(":help engines").ok
    out = screen.take()
    for params in ENGINE_PARAMS.values():
        for name in params:
            assert name in out


def test_help_on_an_unknown_topic_suggests_one(shell, screen):
    assert not shell.handle(":help engnes").ok
    assert "did you mean 'engines'?" in screen.take()


def test_an_unknown_command_suggests_one(shell, screen):
    assert not shell.handle(":hsitory").ok
    assert "did you mean ':history'?" in screen.take()


def test_history_undo_redo(shell, screen):
    shell.handle("generate seed=1")
    shell.handle("global 'smile'")
    screen.take()
    shell.handle(":undo")
    assert "undone: global 'smile'" in screen.take()
    shell.handle(":history")
    out = screen.take()
    assert "   1 | generate seed=1" in out and "2 |" not in out
    assert "1 undone line(s)" in out
    assert shell.handle(":redo").ok
    shell.handle(":history")
    assert "   2 | global 'smile'" in screen.take()
    assert not shell.handle(":redo").ok
    assert "nothing to redo" in screen.take()


def test_show_draws_half_blocks_and_prints_the_png_path(shell, screen, tmp_path):
    shell.handle("generate seeds=[1, 2] as a")
    screen.take()
    assert shell.handle(":show").ok
    out = screen.take()
    assert "▀" in out
    match = re.search(r"a \(line 1, 2 images\): (\S+\.png)", out)
    assert match and match.group(1).startswith(str(tmp_path / "preview"))


def test_show_before_any_subject_is_an_error(shell, screen):
    assert not shell.handle(":show").ok
    assert "nothing to show yet" in screen.take()


def test_save_plan_models_cache(shell, screen, tmp_path):
    shell.handle("generate seed=1")
    shell.handle("save out/a.png")
    screen.take()
    assert shell.handle(":save s.recipe").ok
    out = screen.take()
    assert f"saved 2 line(s) to {tmp_path / 's.recipe'}" in out
    assert "re-stamped 1 output(s)" in out
    assert shell.handle(":plan").ok
    out = screen.take()
    assert re.search(r"s1\s+│\s+1\s+│\s+source", out) and re.search(r"s2\s+│\s+2\s+│\s+save", out)
    assert shell.handle(":models").ok
    out = screen.take()
    assert "a fake model set" in out and "smile" in out
    assert shell.handle(":cache").ok
    out = screen.take()
    assert "/cache/results" in out and "direction" in out and "in memory: 1 step result(s)" in out


def test_save_without_a_file_is_an_error(shell, screen):
    shell.handle("generate seed=1")
    assert not shell.handle(":save").ok
    assert "usage: :save FILE" in screen.take()


def test_quit(shell):
    assert shell.handle(":quit").kind == "quit"


@pytest.mark.parametrize("script, code", [
    (["generate seed=1", "global 'smile'", "save out/a.png"], ui.EXIT_OK),
    (["generate seed=1", "expect psnr() < 3"], ui.EXIT_EXPECT),
    (["generate seed=1", "gloabl 'smile'", "save out/a.png"], ui.EXIT_INVALID),
    (["generate seed=1", ":nope"], ui.EXIT_INVALID),
    (["generate seed=1", "global 'boom'", "save out/a.png"], ui.EXIT_RUNTIME),
    (["generate seed=1", "optimize 'slow'", "save out/a.png"], ui.EXIT_INTERRUPTED),
])
def test_piped_exit_codes_are_runs(shell, screen, script, code, tmp_path):
    assert ui.piped(shell, [line + "\n" for line in script]) == code
    written = (tmp_path / "out" / "a.png").exists()
    assert written == (code == ui.EXIT_OK)


def test_piped_echoes_each_line_after_the_prompt_and_stops_at_quit(shell, screen, tmp_path):
    code = ui.piped(shell, ["generate seed=1 as a\n", "\n", "save out/a.png\n", ":quit\n", "save out/b.png\n"])
    out = screen.take()
    assert code == ui.EXIT_OK
    assert "styleclip> generate seed=1 as a\n" in out
    assert "styleclip (a)> save out/a.png\n" in out
    assert "1 outputs in" in out
    assert not (tmp_path / "out" / "b.png").exists()
