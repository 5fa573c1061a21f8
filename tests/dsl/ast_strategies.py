"""Hypothesis strategies that build recipe ASTs (for the format/parse round trip)."""
from __future__ import annotations

from hypothesis import strategies as st

from styleclip_dsl import ast

KEYWORDS = {
    "use", "seed", "device", "invert", "generate", "load", "on", "as", "apply", "via", "global",
    "mapper", "optimize", "then", "save", "grid", "animation", "export", "latent", "expect",
    "step", "count", "true", "false", "aligned",
}

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from(LETTERS),
    st.text(LETTERS + "0123456789-", max_size=8),
).filter(lambda s: s not in KEYWORDS)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
).map(ast.Number)
scalars = st.one_of(numbers, texts.map(ast.Text), names.map(ast.Word), st.booleans().map(ast.Bool))
ranges = st.builds(
    ast.Range, numbers, numbers,
    step=st.none(),
    count=st.none(),
) | st.builds(lambda a, b, s: ast.Range(a, b, step=s), numbers, numbers, numbers) \
  | st.builds(lambda a, b, c: ast.Range(a, b, count=c), numbers, numbers, numbers)
lists = st.lists(scalars, max_size=4).map(lambda xs: ast.ListValue(tuple(xs)))
values = st.one_of(scalars, ranges, lists)
params = st.lists(st.builds(ast.Param, names.map(ast.Ident), values), max_size=3).map(tuple)
paths = st.one_of(
    st.text(LETTERS + "0123456789./*?[]{}~-", min_size=1, max_size=16),
    texts.filter(bool),
).map(ast.Path)
aliases = st.none() | names.map(ast.Ident)
ops = st.sampled_from([">", ">=", "<", "<=", "==", "!="])
devices = st.builds(
    lambda head, tail, unit: head + tail + unit,
    st.sampled_from(LETTERS), st.text(LETTERS + "0123456789", max_size=5),
    st.sampled_from(["", ":0", ":12"]),
) | texts

statements = st.one_of(
    st.builds(ast.Use, st.one_of(names, texts).map(ast.Ident)),
    st.builds(ast.Seed, numbers),
    st.builds(ast.Device, devices.map(ast.Ident)),
    st.builds(ast.Invert, st.lists(paths, min_size=1, max_size=3).map(tuple), aliases),
    st.builds(ast.Generate, params, aliases),
    st.builds(ast.Load, paths, aliases),
    st.builds(ast.On, names.map(ast.Ident)),
    st.builds(ast.Edit, texts.map(ast.Text), names.map(ast.Ident), params, st.booleans(), st.just("apply")),
    st.builds(ast.Edit, texts.map(ast.Text), st.sampled_from(["global", "mapper", "optimize"]).map(ast.Ident),
              params, st.booleans(), st.just("short")),
    st.builds(ast.Save, st.sampled_from(["image", "grid", "animation", "aligned"]), paths),
    st.builds(ast.Export, paths),
    st.builds(ast.Expect, names.map(ast.Ident), st.lists(scalars, max_size=3).map(tuple), params.map(
        lambda ps: tuple(p for p in ps if not isinstance(p.value, (ast.Range, ast.ListValue)))), ops, scalars),
)
recipes = st.lists(statements, max_size=8).map(lambda ss: ast.Recipe(tuple(ss)))
