"""Numbers that are finite but absurd for a parameter (alpha=1e300) are located errors (values.py)."""
from __future__ import annotations

from styleclip_dsl.api import check
from styleclip_dsl.constraints import Bound
from styleclip_dsl.values import MAX_MAGNITUDE, magnitude_limit


def found(text: str) -> list[tuple[str, int, int]]:
    _, diagnostics = check(text, "v.sc")
    return [(d.code, d.span.line, d.span.column) for d in diagnostics]


def test_an_absurd_parameter_is_out_of_range_where_it_is_written() -> None:
    _, [d] = check("generate seed=1\nglobal 'smile' alpha=1e300\nsave out/a.png\n", "v.sc")
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E-out-of-range", 2, 22, 27)
    assert d.message == "alpha=1e+300 is out of range: |alpha| is at most 1e+06"
    assert d.hint is not None and d.hint.startswith("did you mean a value near its default")
    assert found("generate seed=1\nglobal 'smile' alpha=-2e6\n") == [("E-out-of-range", 2, 22)]
    assert found("generate seed=1\noptimize 'x' steps=10000000\n") == [("E-out-of-range", 2, 20)]
    assert found("generate seed=1\nglobal 'x' alpha=0..2e6 count 3\n") == [("E-out-of-range", 2, 18)]
    assert found("generate seed=1\nexpect golden('g.png', tol=1e9) < 0.1\n") == [("E-out-of-range", 2, 28)]


def test_large_but_sane_values_and_declared_bounds_pass() -> None:
    assert found("generate seed=1\nglobal 'smile' alpha=1e6\nsave out/a.png\n") == []
    assert found("generate seed=1\nglobal 'x' alpha=-1e6..1e6 count 3\nsave out/{alpha}.png\n") == []
    # seeds declare their bound (up to 2**32 - 1): larger than the generic one, so it wins
    assert found("generate seeds=4000000000\nsave out/a.png\n") == []
    assert found("generate seeds=4294967296\nsave out/a.png\n")[0][0] == "E-range"  # its own bound speaks
    assert magnitude_limit(None) == magnitude_limit(Bound(low=0.0)) == MAX_MAGNITUDE
    assert magnitude_limit(Bound(low=-5e7, high=1.0)) == 5e7
