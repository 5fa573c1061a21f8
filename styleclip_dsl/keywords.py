"""The language's keywords, read from grammar/styleclip.lark (the single source of the syntax).

``keywords()`` is every word the grammar spells out (``use``, ``via``, ``grid``, ``step``, ``true``, ...):
the formatter quotes a value that is one, the REPL highlights them. ``statement_keywords()`` are the
words a statement can start with (the first words of ``statement``'s alternatives, through ``edit``
and ``engine``), in the grammar's order: the checker's did-you-mean and the REPL's completion
(``first_keywords("edit")`` completes after ``then``).
Both come from the parser that parses recipes (built once per process).
"""
from __future__ import annotations

from functools import lru_cache

from lark.lexer import PatternStr

from .parser import ast_parser

STATEMENT_RULE = "statement"


def _word_terminals() -> dict[str, str]:
    """Terminal name -> keyword, for the terminals that match one fixed word."""
    return {t.name: t.pattern.value for t in ast_parser().terminals
            if isinstance(t.pattern, PatternStr) and t.pattern.value.isidentifier()}


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword of the grammar."""
    return frozenset(_word_terminals().values())


def statement_keywords() -> tuple[str, ...]:
    """The keywords a statement starts with, in the grammar's order."""
    return first_keywords(STATEMENT_RULE)


@lru_cache(maxsize=None)
def first_keywords(rule: str) -> tuple[str, ...]:
    """The keywords that can start ``rule`` (``edit``: apply and the engines), in the grammar's order."""
    words = _word_terminals()
    expansions: dict[str, list[list[str]]] = {}
    for grammar_rule in ast_parser().rules:
        expansions.setdefault(grammar_rule.origin.name, []).append([s.name for s in grammar_rule.expansion])
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
