"""The language's keywords, read from grammar/styleclip.lark (the single source of the syntax).

``keywords()`` is every word the grammar spells out (``use``, ``via``, ``grid``, ``step``, ``true``, ...):
the formatter quotes a value that is one, the REPL highlights them. ``statement_keywords()`` are the
words a statement can start with (the first words of ``statement``'s alternatives, through ``edit``
and ``engine``), in the grammar's order: the checker's did-you-mean and the REPL's completion
(``first_keywords("edit")`` completes after ``then``). They come from the parser that parses
recipes (built once per process), through ``grammar_loader``'s readers.
"""
from __future__ import annotations

from functools import lru_cache

from .grammar_loader import first_words, word_terminals
from .parser import ast_parser

STATEMENT_RULE = "statement"


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every keyword of the grammar."""
    return frozenset(word_terminals(ast_parser()).values())


def statement_keywords() -> tuple[str, ...]:
    """The keywords a statement starts with, in the grammar's order."""
    return first_keywords(STATEMENT_RULE)


@lru_cache(maxsize=None)
def first_keywords(rule: str) -> tuple[str, ...]:
    """The keywords that can start ``rule`` (``edit``: apply and the engines), in the grammar's order."""
    return first_words(ast_parser(), rule)
