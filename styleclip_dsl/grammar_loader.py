"""Loads grammar/styleclip.lark (package data of ``styleclip_dsl.grammar``) and builds the parser."""
from __future__ import annotations

from importlib import resources

from lark import Lark

GRAMMAR_PACKAGE = "styleclip_dsl.grammar"
GRAMMAR_FILE = "styleclip.lark"


def grammar_text() -> str:
    return resources.files(GRAMMAR_PACKAGE).joinpath(GRAMMAR_FILE).read_text(encoding="utf-8")


def make_parser(transformer: object | None = None) -> Lark:
    """A fresh LALR parser; with ``transformer`` the AST is built while parsing."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        maybe_placeholders=False,
        transformer=transformer,
    )
