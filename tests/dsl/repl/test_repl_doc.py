"""docs/repl.md stays true: it lists every command, and the error in its
recorded session is what the REPL prints for those lines today."""
from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from styleclip_dsl.repl import help as help_topics
from styleclip_dsl.repl.session import ReplSession
from styleclip_dsl.repl.shell import Shell

from .fakes import FakeFactory

DOC = Path(__file__).resolve().parents[3] / "docs" / "repl.md"


def test_every_command_is_documented():
    text = DOC.read_text()
    for command in help_topics.COMMANDS:
        assert re.search(rf"^\| `{re.escape(command)}[ `]", text, flags=re.M), command


def test_the_recorded_typo_is_what_the_repl_prints(tmp_path):
    text = DOC.read_text()
    recorded = re.search(r"^(<repl>:1:16: error:.*?the session is unchanged\n)", text, flags=re.S | re.M).group(1)
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, highlight=False)
    shell = Shell(ReplSession(FakeFactory(), base_dir=tmp_path, out_dir=tmp_path), console)
    shell.handle("generate seeds=[1,2] as faces")
    buffer.seek(0)
    buffer.truncate()
    shell.handle("global 'smile' alpah=3")
    assert buffer.getvalue() == recorded
