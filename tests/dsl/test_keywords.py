"""Keywords come from the grammar: the checker, the formatter and completion agree with what parses."""
from __future__ import annotations

import pytest

from styleclip_dsl.api import check, format_recipe, parse
from styleclip_dsl.keywords import first_keywords, keywords, statement_keywords
from styleclip_dsl.repl.completion import CompletionState, suggest

OTHER_KEYWORDS = sorted(keywords() - set(statement_keywords()))


@pytest.mark.parametrize("word", statement_keywords())
def test_a_statement_keyword_starts_a_statement(word):
    _, diagnostics = check(f"{word} x", "t.sc")
    assert "E-unknown-statement" not in [d.code for d in diagnostics]


@pytest.mark.parametrize("word", OTHER_KEYWORDS)
def test_another_keyword_does_not_start_one(word):
    _, diagnostics = check(f"{word} x", "t.sc")
    assert [d.code for d in diagnostics].count("E-unknown-statement") == 1


def test_an_unknown_word_is_told_the_statement_keywords():
    _, diagnostics = check("zzzz x", "t.sc")
    listed = "a statement starts with one of: " + ", ".join(sorted(statement_keywords()))
    assert [d.hint for d in diagnostics] == [listed]
    assert {"invert", "global", "then", "expect"} <= set(statement_keywords())
    assert {"via", "grid", "step", "true"} <= set(OTHER_KEYWORDS)


def test_completion_offers_the_statement_keywords():
    assert [s.text for s in suggest("", CompletionState())] == list(statement_keywords())


def test_after_then_completion_offers_what_an_edit_starts_with():
    assert first_keywords("edit") == ("apply", "global", "mapper", "optimize")
    assert [s.text for s in suggest("then ", CompletionState())] == list(first_keywords("edit"))
    for word in first_keywords("edit"):  # each of them parses after `then`
        line = f"then {word} 'smile'" + (" via global" if word == "apply" else "")
        _, diagnostics = check(f"generate seed=1\nglobal 'x'\n{line}", "t.sc")
        assert [d.code for d in diagnostics if d.severity == "error"] == [], word


@pytest.mark.parametrize("word", sorted(keywords()))
def test_the_formatter_quotes_every_keyword_as_a_name(word):
    recipe, diagnostics = parse(f"use '{word}'")
    assert diagnostics == []
    assert format_recipe(recipe) == f"use '{word}'\n"


def test_the_formatter_leaves_other_names_bare():
    recipe, _ = parse("use 'toonish'")
    assert format_recipe(recipe) == "use toonish\n"


def test_a_misspelt_range_word_is_told_the_grammars_range_words():
    from styleclip_dsl.grammar_loader import rule_words
    from styleclip_dsl.parser import ast_parser

    words = rule_words(ast_parser(), "range")
    assert set(words) == {"step", "count"}
    for word in words:
        ok = f"generate seed=1\nglobal 'x' alpha=0..4 {word} 2\nsave a{{alpha}}.png\n"
        assert check(ok, "t.sc")[1] == []
        _, [d] = check(ok.replace(f" {word} ", f" {word}s "), "t.sc")
        assert d.message == f"unexpected '{word}s' after a range" and d.hint.startswith(f"did you mean '{word}'?")
