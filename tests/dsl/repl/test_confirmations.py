"""The REPL asks before it replaces a file with `:save` or starts a long mapper training, refuses both
when nobody can answer (piped input), and removes its preview folder when the process exits."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from styleclip_dsl.repl.session import ReplSession
from styleclip_dsl.repl.shell import Shell

from .fakes import FakeFactory


def make_shell(tmp_path: Path) -> tuple[Shell, Console]:
    session = ReplSession(FakeFactory(), base_dir=tmp_path, out_dir=tmp_path, preview_dir=tmp_path / "preview")
    console = Console(record=True, width=200)
    return Shell(session, console), console


def test_save_asks_before_replacing_a_file(tmp_path) -> None:
    shell, console = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    target = tmp_path / "kept.sc"
    target.write_text("# mine\n")
    assert not shell.handle(":save kept.sc").ok  # piped: nobody to ask, so the file stays
    assert target.read_text() == "# mine\n" and "--overwrite" in console.export_text()
    shell.commands.ask = lambda question: False
    assert not shell.handle(":save kept.sc").ok and target.read_text() == "# mine\n"
    asked: list[str] = []
    shell.commands.ask = lambda question: asked.append(question) or True
    assert shell.handle(":save kept.sc").ok and "generate seed=1" in target.read_text()
    assert asked == [f"{target} exists: replace it?"]
    shell.commands.ask = None
    target.write_text("# mine again\n")
    assert shell.handle(":save kept.sc --overwrite").ok and "generate seed=1" in target.read_text()
    assert shell.handle(":save new.sc").ok  # a new file needs no question


def _explains(executor, *needs) -> list[dict]:
    """Make the fake executor explain every plan as needing ``needs``; returns the plans it was asked about."""
    asked: list[dict] = []
    executor.explain = lambda plan, base: asked.append(plan) or SimpleNamespace(needs=list(needs), device="cpu")
    return asked


def test_a_long_training_needs_a_yes(tmp_path) -> None:
    shell, console = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    need = SimpleNamespace(kind="mapper", what="'smiel' (300 training steps)", status="train", seconds=99.0)
    _explains(shell.session.executor, need)
    handled = shell.handle("mapper 'smiel'")
    assert not handled.ok and handled.outcome.status == "declined" and shell.session.entries == ["generate seed=1"]
    text = console.export_text()
    assert "this would train a mapper for 'smiel' (300 training steps), about 99 s on cpu" in text
    assert "not started" in text
    shell.commands.ask = lambda question: True
    assert shell.handle("mapper 'smiel'").ok and shell.session.entries[-1] == "mapper 'smiel'"
    quick = SimpleNamespace(kind="mapper", what="'x' (3 training steps)", status="train", seconds=0.5)
    shell.commands.ask = None
    _explains(shell.session.executor, quick)
    assert shell.handle("mapper 'x'").ok  # a short training starts without a question


def test_the_training_question_is_asked_on_the_plan_the_entry_runs(tmp_path, monkeypatch) -> None:
    """One compile per submitted line: the consent check explains the plan the entry then runs,
    instead of compiling (and explaining) the session text a second time."""
    shell, _ = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    need = SimpleNamespace(kind="mapper", what="'smiel' (300 training steps)", status="train", seconds=99.0)
    explained = _explains(shell.session.executor, need)
    compiled: list[str] = []
    real = shell.session.compile
    monkeypatch.setattr(shell.session, "compile", lambda text: compiled.append(text) or real(text))
    shell.commands.ask = lambda question: True
    assert shell.handle("mapper 'smiel'").ok
    assert len(compiled) == 1 and len(explained) == 1
    assert explained[0] == shell.session.plan  # the plan that ran is the one explained
    compiled.clear()
    assert shell.handle("global 'smile'").ok  # no engine that trains: nothing explained
    assert len(compiled) == 1 and len(explained) == 1


def test_preview_folder_is_removed_at_exit() -> None:
    code = ("from styleclip_dsl.repl.preview import preview_folder; f = preview_folder(); "
            "(f / 'a.png').write_bytes(b'x'); print(f)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder.name.startswith("styleclip-repl-") and not folder.exists()
