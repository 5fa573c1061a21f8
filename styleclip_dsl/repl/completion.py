"""Tab completion: statement keywords, engine parameters, file paths, subject names and known prompts.

``suggest(text_before_cursor, state)`` is a pure function (tested without a
terminal); ``ReplCompleter`` adapts it to prompt_toolkit. The vocabulary
comes from the same tables the checker uses (the grammar's statement keywords,
``defaults.ENGINE_PARAMS``, ``GENERATE_PARAMS``, ``metrics.METRICS``); the live part (subjects, prompts
with a mapper or already edited with) comes from the session through
``state``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from ..constraints import OneOf
from ..defaults import ENGINE_PARAMS, ENGINES, GENERATE_PARAMS
from ..keywords import first_keywords, statement_keywords
from ..lexical import quote
from ..metrics import METRICS

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "cuda:0", "mps")
# the words a parameter takes (space=wplus|s, layers=...), read from the engines' OneOf constraints
PARAM_CHOICES: dict[str, tuple[str, ...]] = {
    name: spec.constraint.options
    for params in ENGINE_PARAMS.values() for name, spec in params.items() if isinstance(spec.constraint, OneOf)
}
_PATH_STATEMENTS = ("invert", "load")


@dataclass
class CompletionState:
    """The live facts completion draws on (filled by the session at completion time)."""

    subjects: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    commands: dict[str, str] = field(default_factory=dict)      # ":name" -> one-line help
    help_topics: list[str] = field(default_factory=list)
    base_dir: Path = field(default_factory=Path.cwd)


@dataclass(frozen=True)
class Suggestion:
    """Replace the last ``replace`` characters before the cursor with ``text``."""

    text: str
    replace: int
    meta: str = ""


def split_statement(text: str) -> tuple[list[str], str, str | None]:
    """The current statement before the cursor: (finished words, word being typed, open quote char).

    Statements end at ``;`` or a newline outside quotes; quoted strings are
    one word (with their quotes); a ``#`` outside quotes starts a comment.
    """
    words: list[str] = []
    current = ""
    quote_char: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote_char:
            current += ch
            if ch == "\\" and i + 1 < len(text):
                current += text[i + 1]
                i += 2
                continue
            if ch == quote_char:
                quote_char = None
        elif ch in "'\"":
            quote_char = ch
            current += ch
        elif ch in ";\n":
            words, current = [], ""
        elif ch == "#":
            return [], "", "#"
        elif ch.isspace():
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
        i += 1
    return words, current, quote_char


def suggest(text: str, state: CompletionState) -> list[Suggestion]:
    """Completions for the input ``text`` (everything before the cursor)."""
    if text.lstrip().startswith(":") and "\n" not in text:
        return _command(text.lstrip(), state)
    words, word, open_quote = split_statement(text)
    if open_quote == "#":
        return []
    if open_quote:
        return _prompts(words, word, state)
    if not words:
        return _matching(word, statement_keywords(), "statement")
    head = words[0]
    if head == "then":
        words = words[1:]
        if not words:
            return _matching(word, first_keywords("edit"), "edit")
        head = words[0]
    if head in ENGINES or head == "apply":
        return _edit(words, word, state)
    if head == "on" and len(words) == 1:
        return _matching(word, state.subjects, "subject")
    if head == "device" and len(words) == 1:
        return _matching(word, DEVICES, "device")
    if head == "generate":
        return _generate(words, word)
    if head in _PATH_STATEMENTS:
        if words[-1] == "as":
            return []
        return _paths(word, state.base_dir) + (_matching(word, ("as",), "name the subject") if len(words) > 1 else [])
    if head == "save":
        options = _matching(word, ("grid", "animation", "aligned"), "save mode") if len(words) == 1 else []
        return options + _paths(word, state.base_dir)
    if head == "export":
        return _matching(word, ("latent",), "") if len(words) == 1 else _paths(word, state.base_dir)
    if head == "expect" and len(words) == 1:
        return [Suggestion(name + "(", len(word), spec.doc) for name, spec in METRICS.items()
                if name.startswith(word)]
    return []


def _matching(word: str, options: Iterable[str], meta: str) -> list[Suggestion]:
    return [Suggestion(option, len(word), meta) for option in options if option.startswith(word) and option != word]


def _command(text: str, state: CompletionState) -> list[Suggestion]:
    name, space, arg = text.partition(" ")
    if not space:
        return [Suggestion(c, len(name), doc) for c, doc in state.commands.items() if c.startswith(name)]
    arg = arg.lstrip()
    if name == ":help":
        return _matching(arg, state.help_topics, "topic")
    if name == ":show":
        return _matching(arg, state.subjects, "subject")
    if name == ":save":
        return _paths(arg, state.base_dir)
    return []


def _prompts(words: list[str], word: str, state: CompletionState) -> list[Suggestion]:
    """Inside an open quote: the known prompts, when the quote is an edit's text."""
    is_edit_text = bool(words) and (words[-1] in ENGINES or words[-1] == "apply")
    if not is_edit_text:
        return []
    typed = word[1:]
    out = []
    for prompt in state.prompts:
        if prompt.startswith(typed) and prompt != typed:
            out.append(Suggestion(quote(prompt), len(word), "known prompt"))
    return out


def _edit_engine(words: list[str]) -> str | None:
    if words[0] in ENGINES:
        return words[0]
    if "via" in words:
        index = words.index("via")
        if index + 1 < len(words) and words[index + 1] in ENGINES:
            return words[index + 1]
    return None


def _edit(words: list[str], word: str, state: CompletionState) -> list[Suggestion]:
    if len(words) == 1:  # the text comes next
        return [Suggestion(quote(p), len(word), "known prompt") for p in state.prompts
                if quote(p).startswith(word) or p.startswith(word)]
    if words[0] == "apply" and words[-1] == "via":
        return _matching(word, ENGINES, "engine")
    if words[0] == "apply" and "via" not in words:
        return _matching(word, ("via",), "")
    engine = _edit_engine(words)
    if engine is None:
        return []
    return _params(word, ENGINE_PARAMS[engine], words)


def _generate(words: list[str], word: str) -> list[Suggestion]:
    if words[-1] == "as":
        return []
    return _params(word, GENERATE_PARAMS, words) + _matching(word, ("as",), "name the subject")


def _params(word: str, specs: dict, words: list[str]) -> list[Suggestion]:
    key, eq, value = word.partition("=")
    if eq:
        return [Suggestion(f"{key}={choice}", len(word), "") for choice in PARAM_CHOICES.get(key, ())
                if choice.startswith(value)]
    given = {w.partition("=")[0] for w in words if "=" in w}
    return [Suggestion(name + "=", len(word), f"{spec.doc} (default {spec.default})" if spec.default is not None
                       else spec.doc)
            for name, spec in specs.items() if name.startswith(word) and name not in given]


def _paths(word: str, base_dir: Path) -> list[Suggestion]:
    """Files and folders under ``base_dir`` (or absolute / ``~`` paths) that complete ``word``."""
    if word.startswith(("'", '"')):
        return []
    folder_part, _, prefix = word.rpartition("/")
    if word.startswith("/") and not folder_part:
        folder_part = "/"
    folder = Path(os.path.expanduser(folder_part)) if folder_part else Path(".")
    if not folder.is_absolute():
        folder = base_dir / folder
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    lead = "" if not folder_part else (folder_part if folder_part == "/" else folder_part + "/")
    out = []
    for entry in entries:
        if not entry.name.startswith(prefix) or (entry.name.startswith(".") and not prefix.startswith(".")):
            continue
        if any(c in entry.name for c in " ;#'\""):
            continue  # would need quoting; not offered bare
        is_dir = entry.is_dir()
        out.append(Suggestion(lead + entry.name + ("/" if is_dir else ""), len(word), "folder" if is_dir else "file"))
    return out


class ReplCompleter(Completer):
    """prompt_toolkit completer over ``suggest``; ``state`` is asked for fresh facts at each completion."""

    def __init__(self, state: Callable[[], CompletionState]) -> None:
        self.state = state

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        try:
            state = self.state()
        except Exception:
            state = CompletionState()
        for item in suggest(document.text_before_cursor, state):
            yield Completion(item.text, start_position=-item.replace, display_meta=item.meta)
