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


def test_a_long_training_needs_a_yes(tmp_path) -> None:
    shell, console = make_shell(tmp_path)
    assert shell.handle("generate seed=1").ok
    need = SimpleNamespace(kind="mapper", what="'smiel' (300 training steps)", status="train", seconds=99.0)
    shell.session.explain = lambda entry=None: (SimpleNamespace(needs=[need], device="cpu"), {})
    handled = shell.handle("mapper 'smiel'")
    assert not handled.ok and shell.session.entries == ["generate seed=1"]
    text = console.export_text()
    assert "this would train a mapper for 'smiel' (300 training steps), about 99 s on cpu" in text
    assert "not started" in text
    shell.commands.ask = lambda question: True
    assert shell.handle("mapper 'smiel'").ok and shell.session.entries[-1] == "mapper 'smiel'"
    quick = SimpleNamespace(kind="mapper", what="'x' (3 training steps)", status="train", seconds=0.5)
    shell.commands.ask = None
    shell.session.explain = lambda entry=None: (SimpleNamespace(needs=[quick], device="cpu"), {})
    assert shell.handle("mapper 'x'").ok  # a short training starts without a question


def test_preview_folder_is_removed_at_exit() -> None:
    code = ("from styleclip_dsl.repl.preview import preview_folder; f = preview_folder(); "
            "(f / 'a.png').write_bytes(b'x'); print(f)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    folder = Path(out.stdout.strip())
    assert folder.name.startswith("styleclip-repl-") and not folder.exists()
