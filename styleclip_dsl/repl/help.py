"""``:help`` topics.

The REPL's own topics (commands, keys) are written here; the language
topics are the sections of docs/language.md when the docs are installed next
to the package (a source checkout), with short built-in summaries otherwise;
``engines`` and ``metrics`` are generated from the tables the checker uses,
so they cannot drift from what the language accepts.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rich.console import RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from ..defaults import ENGINE_PARAMS, GENERATE_PARAMS
from ..metrics import METRICS

COMMANDS: dict[str, str] = {
    ":help": "[topic]  this help, or a topic",
    ":plan": "the session's compiled plan",
    ":explain": "[statements]  what the session (or typing the statements) costs: shipped, cached, to compute",
    ":show": "[name]  preview the latest result of the current (or named) subject",
    ":undo": "drop the last accepted line (its results stay warm for :redo)",
    ":redo": "bring back the last undone line",
    ":history": "the accepted lines, numbered",
    ":save": "FILE [--overwrite]  write the session as a recipe (and re-stamp its images with it); asks before replacing a file",
    ":models": "the model set, its device and its mappers",
    ":cache": "the result cache and what this session holds in memory",
    ":quit": "leave (Ctrl-D does too)",
}

KEYS = """\
- **Enter** runs the line; **Alt-Enter** (or Esc then Enter) starts a new line of a multi-line entry.
- **Tab** completes keywords, engine parameters, file paths, subject names and known prompts.
- **Up/Down** walk the history (kept between sessions); **Ctrl-R** searches it.
- **Ctrl-C** clears the line at the prompt; while a step runs it stops the step (the session and
  the cache stay as they were); a second Ctrl-C stops at once.
- **Ctrl-D** leaves.
"""

_BUILTIN = {
    "language": "Statements: `invert PATH... [as NAME]`, `generate seed=N | seeds=A..B [as NAME]`, "
                "`load FILE [as NAME]`, `on NAME`, `apply 'TEXT' via ENGINE k=v...` (or `ENGINE 'TEXT' k=v...`), "
                "`then EDIT`, `save PATH`, `save grid PATH`, `save animation PATH`, `export latent PATH`, "
                "`expect METRIC(args) OP VALUE`, `use NAME`, `seed N`, `device NAME`. "
                "Separate statements with `;` or newlines; `#` starts a comment.",
    "sweeps": "A parameter written as `A..B step S`, `A..B count N` or `[a, b, c]` runs one variant per "
              "value: `global 'smile' alpha=0..6 step 2; save grid out/smile.png`.",
    "outputs": "`save PATH` writes one PNG per item (placeholders: {name} {subject} {index} {step} {text} "
               "{engine} and the swept parameter); `save grid` a labelled grid; `save animation` a GIF; "
               "`export latent FILE.pt|.npz` the latents.",
}

_DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"


@lru_cache(maxsize=1)
def doc_sections() -> dict[str, str]:
    """``## `` sections of docs/language.md by lower-case title ({} when the docs are not installed)."""
    try:
        text = _DOC.read_text(encoding="utf-8")
    except OSError:
        return {}
    sections: dict[str, str] = {}
    for block in re.split(r"(?m)^## ", text)[1:]:
        title, _, body = block.partition("\n")
        sections[title.strip().lower()] = f"## {title.strip()}\n{body.strip()}\n"
    return sections


def topics() -> list[str]:
    names = ["commands", "keys", "engines", "metrics", "language"] + list(_BUILTIN)
    names += [t for t in doc_sections() if t not in names]
    return list(dict.fromkeys(names))


def commands_table() -> Table:
    table = Table(title="REPL commands (everything else is a recipe line)", title_justify="left", show_header=False)
    table.add_column("command", style="bold cyan")
    table.add_column("what it does")
    for name, doc in COMMANDS.items():
        table.add_row(name, Text(doc))
    return table


def engines_table() -> Table:
    table = Table(title="engine parameters", title_justify="left")
    for column in ("engine", "parameter", "default", "meaning"):
        table.add_column(column)
    for engine, specs in list(ENGINE_PARAMS.items()) + [("generate", GENERATE_PARAMS)]:
        for name, spec in specs.items():
            table.add_row(engine, name, Text("" if spec.default is None else repr(spec.default)), Text(spec.doc))
    return table


def metrics_table() -> Table:
    table = Table(title="expect metrics", title_justify="left")
    for column in ("metric", "arguments", "compares to", "meaning"):
        table.add_column(column)
    for name, spec in METRICS.items():
        args = ", ".join(list(spec.args) + [f"{k}=" for k in spec.kwargs])
        table.add_row(name, Text(args), spec.result, Text(spec.doc))
    return table


def help_topic(topic: str | None) -> RenderableType | None:
    """The renderable for a topic (None for an unknown one); no topic gives the overview."""
    if not topic:
        return commands_table()
    key = topic.strip().lower().lstrip(":")
    if key == "commands":
        return commands_table()
    if key == "keys":
        return Markdown(KEYS)
    if key == "engines":
        return engines_table()
    if key == "metrics":
        return metrics_table()
    if ":" + key in COMMANDS:
        return Markdown(f"`:{key}` {COMMANDS[':' + key]}")
    sections = doc_sections()
    if key in sections:
        return Markdown(sections[key])
    if key == "language" and "lexical structure" in sections:
        return Markdown(sections["lexical structure"] + "\n" + _BUILTIN["language"])
    if key in _BUILTIN:
        return Markdown(_BUILTIN[key])
    return None
