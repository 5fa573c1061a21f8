"""The parser's tables kept as JSON in the user cache (styleclip_dsl/parser_table.py): a loaded parser
is the built one (same ASTs, same syntax errors), a damaged or foreign file is built again, and
nothing is pickled."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedInput

from styleclip_dsl import grammar_loader, parser_table
from styleclip_dsl.parser import AstBuilder
from styleclip_dsl.syntax_errors import syntax_diagnostic

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.sc"))
BROKEN = ["invert a.png\napply smile via global alpha=\n", "global 'x' alpha=3 beta=\n",
          "generate seeds=1.. as\nsave out/{name}.png\n", "seed 1\n)"]


def test_the_codec_keeps_tuples_and_non_string_keys() -> None:
    value = {"a": (1, "x", None), "states": {0: {5: (0, 3)}, 7: {}}, "l": [True, 1.5, ("y",)]}
    encoded = parser_table.encode(value)
    assert parser_table.decode(json.loads(json.dumps(encoded))) == value
    with pytest.raises(TypeError):
        parser_table.encode({"x": object()})


def test_tables_are_stored_once_and_a_loaded_parser_parses_as_the_built_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path))
    built = grammar_loader.make_parser(AstBuilder())  # no tables yet: built, then stored
    files = list((tmp_path / "parser").glob("*.json"))
    assert len(files) == 1 and built.source_path != "<deserialized>"
    stored = json.loads(files[0].read_text())  # plain JSON
    assert stored["format"] == parser_table.FORMAT and files[0].stem == stored["key"]
    loaded = grammar_loader.make_parser(AstBuilder())
    assert loaded.source_path == "<deserialized>"
    reference = grammar_loader.make_parser(AstBuilder(), cached=False)
    assert [t.name for t in loaded.terminals] == [t.name for t in reference.terminals]
    for path in RECIPES:
        text = path.read_text()
        assert loaded.parse(text) == reference.parse(text), path.name
    for text in BROKEN:
        errors = []
        for p in (loaded, reference):
            try:
                p.parse(text)
                errors.append(None)
            except UnexpectedInput as exc:  # the syntax error the checker turns into a diagnostic
                errors.append(syntax_diagnostic(exc, text, "t.sc", p)[0])
        assert errors[0] == errors[1] and errors[0] is not None, text


def test_a_damaged_or_foreign_table_is_built_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path))
    grammar_loader.make_parser()
    (path,) = (tmp_path / "parser").glob("*.json")
    path.write_text('{"format": "' + parser_table.FORMAT + '", "key": "' + path.stem + '", "data": {}}')
    assert grammar_loader.make_parser().source_path != "<deserialized>"  # built
    assert grammar_loader.make_parser().source_path == "<deserialized>"  # and rewritten
    other = parser_table.table_key(grammar_loader.grammar_text() + "\n// edited\n", grammar_loader.OPTIONS)
    assert other != path.stem  # an edited grammar reads other tables
