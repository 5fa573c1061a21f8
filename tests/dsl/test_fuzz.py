"""Fuzzing the front end: whatever the bytes, a located diagnostic or a plan, never an exception.

Two generators: grammar-aware recipes (``ast_strategies``' ASTs, formatted,
with hostile numbers and pieces spliced in) and byte-mutated copies of the
shipped recipes (``recipes/*.sc``: bytes flipped, inserted, deleted,
duplicated, truncated, including bytes that are not UTF-8). Each input goes
the way `styleclip check / plan / fmt` take it: strict UTF-8 decoding, parse,
check, compile to JSON, and the format round trip.

CI runs 2,000 examples (a fixed, derandomized set, and each hostile piece in six
statement positions); ``pytest --long
tests/dsl/test_fuzz.py`` runs 100,000 random ones (docs/reliability.md has
the figures).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styleclip_dsl.api import check, compile_recipe, format_recipe, parse
from styleclip_dsl.diagnostics import Diagnostic

from .ast_strategies import recipes

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "recipes").glob("*.sc"))
SEED_BYTES = [path.read_bytes() for path in SEEDS]

CI_EXAMPLES = {"grammar": 1000, "bytes": 1000}
LONG_EXAMPLES = {"grammar": 50_000, "bytes": 50_000}

# Pieces that broke the front end once (issue #20) or sit on a limit.
HOSTILE = [
    "9" * 4301, "-" + "9" * 5000, "0" * 5000 + "1", "1" + "0" * 309, "1e999", "-1e999", "1e-999", "1e308",
    "0..1e308 step 1e-308", "-1e308..1e308 count 3", "0..1 count 1e999", "1..2 step 0", "[1e999, 2]",
    "seed " + "9" * 4400, "expect distance() > 1e999", "expect clip('x') < -" + "9" * 400,
    "generate seeds=0.." + "9" * 320, "alpha=" + "9" * 400, "\x00", "\ufeff", "'", '"', "\\", "{", "}",
    "{alpha", "..", ";;", "#", "\r", "\t", "é", "\u202e", "\U0001f600", " as ", "=", "then ", "save ",
]
BAD_BYTES = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xc0\xaf"]


def front_end(data: bytes) -> None:
    """Everything `check`, `plan` and `fmt` do with ``data``; fails on any exception or unlocated error."""
    from styleclip_dsl.commands.recipe_input import RecipeDecodeError, decode_recipe  # (bench_fuzz.py
    # imports this module's strategies on older checkouts too)

    try:
        text = decode_recipe(data, "fuzz.sc")
    except RecipeDecodeError as exc:
        _located([exc.diagnostic], exc.diagnostic.context or "")
        return
    recipe, diagnostics = check(text, "fuzz.sc")
    assert recipe is not None or diagnostics
    _located(diagnostics, text)
    plan, compiled = compile_recipe(text, "fuzz.sc")
    _located(compiled, text)
    if plan is not None:
        json.loads(plan.to_json(), parse_constant=_no_constant)  # no NaN / Infinity in a plan
    parsed, syntax = parse(text, "fuzz.sc")
    if parsed is not None and not syntax:  # what `fmt --write` would write must parse to the same recipe
        formatted = format_recipe(parsed)
        again, problems = parse(formatted, "fuzz.sc")
        assert problems == [], (formatted, [str(d) for d in problems])
        assert again == parsed, formatted


def _located(diagnostics: list[Diagnostic], text: str) -> None:
    lines = text.split("\n")
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.span.line >= 1 and d.span.column >= 1, str(d)
        context = d.context if d.context is not None else text
        assert d.span.line <= max(len(context.split("\n")), len(lines)), str(d)


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in a plan")


@st.composite
def grammar_recipes(draw: st.DrawFn) -> bytes:
    """A formatted random AST, with hostile pieces spliced in at statement or token boundaries."""
    text = format_recipe(draw(recipes))
    for _ in range(draw(st.integers(0, 3))):
        piece = draw(st.sampled_from(HOSTILE))
        cut = draw(st.integers(0, len(text)))
        if draw(st.booleans()):  # at a token boundary: before the next space or newline
            nxt = [i for i in (text.find(" ", cut), text.find("\n", cut)) if i >= 0]
            cut = min(nxt) if nxt else len(text)
        text = text[:cut] + piece + text[cut:]
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mutated_recipes(draw: st.DrawFn) -> bytes:
    """A shipped recipe with a few byte-level mutations."""
    data = bytearray(draw(st.sampled_from(SEED_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "hostile", "bad", "duplicate", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif op == "hostile":
            data[at:at] = draw(st.sampled_from(HOSTILE)).encode("utf-8", "surrogatepass")
        elif op == "bad":
            data[at:at] = draw(st.sampled_from(BAD_BYTES))
        elif op == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 200)))
            data[at:at] = data[at:end]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@pytest.fixture()
def examples(request) -> dict[str, int]:
    return LONG_EXAMPLES if request.config.getoption("--long") else CI_EXAMPLES


def _settings(request, count: int) -> settings:
    long = request.config.getoption("--long")
    return settings(max_examples=count, deadline=None, derandomize=not long, database=None,
                    suppress_health_check=list(HealthCheck))


def test_grammar_aware_recipes_give_diagnostics_or_plans(request, examples):
    @_settings(request, examples["grammar"])
    @given(grammar_recipes())
    def run(data: bytes) -> None:
        front_end(data)

    run()


def test_byte_mutated_recipes_give_diagnostics_or_plans(request, examples):
    assert SEED_BYTES, "recipes/*.sc are the seeds"

    @_settings(request, examples["bytes"])
    @given(mutated_recipes())
    def run(data: bytes) -> None:
        front_end(data)

    run()


@pytest.mark.parametrize("piece", HOSTILE)
def test_every_hostile_piece_in_every_statement_position(piece):
    """Each hostile piece as a parameter value, a sweep, a seed and an expected value."""
    for template in ("invert a.png\nglobal 'x' alpha={}\n", "seed {}\n", "generate seeds={}\n",
                     "invert a.png\nexpect distance() > {}\n", "invert a.png\noptimize 'x' steps={}\n", "{}\n"):
        front_end(template.format(piece).encode("utf-8", "surrogatepass"))


def test_numbers_beyond_a_float_are_located_errors():
    for number in ("9" * 5000, "1e999", "-1" + "0" * 400):
        for text in (f"seed {number}", f"invert a.png\nglobal 'x' alpha={number}",
                     f"invert a.png\nglobal 'x' alpha=0..{number} count 3",
                     f"invert a.png\nexpect distance() > {number}"):
            _, diagnostics = check(text, "n.sc")
            assert [d.code for d in diagnostics] == ["E-type"] or [d.code for d in diagnostics] == ["E-sweep"], \
                [str(d) for d in diagnostics]
            assert "out of range" in diagnostics[0].message
            line = text.split("\n")[diagnostics[0].span.line - 1]
            assert line[diagnostics[0].span.column - 1:].startswith(number[:5]), str(diagnostics[0])


def test_a_step_too_small_for_a_float_is_too_many_values():
    _, diagnostics = check("invert a.png\nglobal 'x' alpha=0..1e308 step 1e-308", "s.sc")
    assert [d.message for d in diagnostics] == ["sweep has over a million values (at most 1000)"]


def test_fmt_writes_numbers_beyond_a_float_as_text_that_parses_back():
    recipe, _ = parse("invert a.png\nglobal 'x' alpha=1e999 beta=-" + "9" * 5000 + "\n")
    formatted = format_recipe(recipe)
    assert formatted == "invert a.png\nglobal 'x' alpha=1e999 beta=-1e999\n"
    assert parse(formatted) == (recipe, [])


def test_set_seed_overrides_that_int_cannot_read_are_errors():
    for value in ("9" * 5000, "\u00b2", "\u0661\u0662", "-1", "1e3"):
        plan, diagnostics = compile_recipe("seed 1", "s.sc", {"seed": value})
        assert plan is None and [d.code for d in diagnostics] == ["E-type"], value
    plan, diagnostics = compile_recipe("seed 1", "s.sc", {"seed": "42"})
    assert plan is not None and plan.seed == 42
