"""Loads grammar/styleclip.lark (package data of ``styleclip_dsl.grammar``), builds the parser, and reads
the grammar's words from a built parser (``styleclip_dsl.keywords`` and the syntax errors' hints)."""
from __future__ import annotations

from importlib import resources

from lark import Lark
from lark.lexer import PatternStr

GRAMMAR_PACKAGE = "styleclip_dsl.grammar"
GRAMMAR_FILE = "styleclip.lark"


def grammar_text() -> str:
    return resources.files(GRAMMAR_PACKAGE).joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


OPTIONS = {"parser": "lalr", "lexer": "contextual", "keep_all_tokens": True, "maybe_placeholders": False}


def make_parser(transformer: object | None = None, cached: bool = True) -> Lark:
    """A fresh LALR parser; with ``transformer`` the AST is built while parsing. ``cached``: load its
    tables from the user cache when they were built before for this grammar and lark
    (``parser_table``: JSON, never a pickle), else build them and store them there."""
    text = grammar_text()
    if not cached:
        return Lark(text, transformer=transformer, **OPTIONS)
    from . import parser_table

    key = parser_table.table_key(text, OPTIONS)
    path = parser_table.table_path(key)
    parser = parser_table.load(path, key, transformer)
    if parser is None:
        parser = Lark(text, transformer=transformer, **OPTIONS)
        parser_table.store(path, parser, key)
    return parser


def word_terminals(parser: Lark) -> dict[str, str]:
    """Terminal name -> keyword, for the terminals that match one fixed word (``SAVE`` -> ``save``)."""
    return {t.name: t.pattern.value for t in parser.terminals
            if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()}


def _expansions(parser: Lark) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for rule in parser.rules:
        out.setdefault(rule.origin.name, []).append([s.name for s in rule.expansion])
    return out


def first_words(parser: Lark, rule: str) -> tuple[str, ...]:
    """The keywords that can start ``rule`` (through the rules it starts with), in the grammar's order."""
    words, expansions = word_terminals(parser), _expansions(parser)
    found: list[str] = []
    seen: set[str] = set()

    def first(symbol: str) -> None:
        if symbol in seen:
            return
        seen.add(symbol)
        if symbol in words:
            found.append(words[symbol])
        for expansion in expansions.get(symbol, ()):
            if expansion:
                first(expansion[0])

    first(rule)
    return tuple(found)


def rule_words(parser: Lark, rule: str) -> tuple[str, ...]:
    """The keywords written in ``rule`` itself (``range``: step, count), in the grammar's order."""
    words = word_terminals(parser)
    found = [words[s] for expansion in _expansions(parser).get(rule, ()) for s in expansion if s in words]
    return tuple(dict.fromkeys(found))
