"""Highlighting: token classes from the grammar's keywords, covering the input exactly."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.document import Document

from styleclip_dsl.grammar_loader import grammar_text
from styleclip_dsl.keywords import keywords
from styleclip_dsl.repl.highlight import RecipeLexer, tokenize


def classes(line: str) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in tokenize(line) if text.strip()]


def test_keywords_come_from_the_grammar():
    words = keywords()
    assert {"invert", "apply", "via", "then", "save", "grid", "expect", "step", "count", "as"} <= words
    for word in words:
        assert f'"{word}"' in grammar_text()


def test_a_statement_is_coloured_by_role():
    assert classes("apply 'curly hair' via global alpha=0..6 step 1.5  # try") == [
        ("keyword", "apply"), ("string", "'curly hair'"), ("keyword", "via"), ("engine", "global"),
        ("param", "alpha"), ("operator", "="), ("number", "0"), ("operator", ".."), ("number", "6"),
        ("keyword", "step"), ("number", "1.5"), ("comment", "# try"),
    ]


def test_paths_names_and_operators():
    assert classes("invert photos/*.png as anna; save out/{name}.png") == [
        ("keyword", "invert"), ("path", "photos/*.png"), ("keyword", "as"), ("text", "anna"), ("operator", ";"),
        ("keyword", "save"), ("path", "out/{name}.png"),
    ]
    assert classes("expect clip('x') >= 0.2") == [
        ("keyword", "expect"), ("text", "clip"), ("operator", "("), ("string", "'x'"), ("operator", ")"),
        ("operator", ">="), ("number", "0.2"),
    ]


def test_an_unterminated_string_is_still_a_string():
    assert classes("global 'curly") == [("engine", "global"), ("string", "'curly")]


def test_a_command_line():
    assert tokenize(":show anna") == [("command", ":show"), ("text", " anna")]
    assert tokenize(":undo") == [("command", ":undo")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_tokens_always_cover_the_line(line):
    line = line.replace("\n", " ")
    assert "".join(text for _, text in tokenize(line)) == line


def test_the_lexer_styles_each_line_of_a_multi_line_entry():
    get_line = RecipeLexer().lex_document(Document("generate seed=1\n:not a command here"))
    assert get_line(0)[0] == ("class:keyword", "generate")
    assert get_line(1)[0][0] != "class:command"  # only the first line can be a command
    assert get_line(5) == []
