"""Each error class of the checker: its code, exact location, message and hint."""
from __future__ import annotations

import pytest

from styleclip_dsl.api import check

HEAD = "invert photo.jpg\n"

# (recipe, code, line, column, end_column, message, hint)
KEEP_HINT = "keep lists what the edit should leave alone, e.g. keep='hair style, glasses'"
CASES = [
    (HEAD + "apply 'x' via globl\n", "E-unknown-engine", 2, 15, 20, "unknown engine 'globl'", "did you mean 'global'?"),
    (HEAD + "glbal 'smile'\n", "E-unknown-statement", 2, 1, 6, "unknown statement 'glbal'", "did you mean 'global'?"),
    (HEAD + "alpha=3\n", "E-unknown-statement", 2, 1, 6, "unknown statement 'alpha'",
     "parameters go on the edit's line, e.g. `global 'smile' alpha=...`"),
    (HEAD + "global 'x' bta=0.1\n", "E-unknown-param", 2, 12, 15,
     "unknown parameter 'bta' for engine 'global'", "did you mean 'beta'?"),
    (HEAD + "mapper 'x' zzz=1\n", "E-unknown-param", 2, 12, 15,
     "unknown parameter 'zzz' for engine 'mapper'", "engine 'mapper' takes: strength, layers"),
    (HEAD + "global 'x' beta=0.1 beta=0.2\n", "E-duplicate-param", 2, 21, 25,
     "parameter 'beta' is given twice", "remove one of them (first on column 12)"),
    (HEAD + "global 'x' beta=-0.5\n", "E-range", 2, 17, 21, "beta must be >= 0, got -0.5", None),
    (HEAD + "optimize 'x' steps=0\n", "E-range", 2, 20, 21, "steps must be >= 1, got 0", None),
    (HEAD + "optimize 'x' steps=2.5\n", "E-type", 2, 20, 23, "steps must be an integer, got 2.5", None),
    (HEAD + "optimize 'x' lr=0\n", "E-range", 2, 17, 18, "lr must be > 0, got 0", None),
    (HEAD + "optimize 'x' space=wplsu\n", "E-range", 2, 20, 25,
     "space must be one of 'wplus', 's', got 'wplsu'", "did you mean 'wplus'?"),
    (HEAD + "optimize 'x' beta=0.15 space=wplus\n", "E-beta-needs-s", 2, 14, 18,
     "optimize's beta masks StyleSpace channels: it needs space=s", "add space=s, or drop beta to optimise W+"),
    (HEAD + "optimize 'x' space=wplus beta=0.1..0.2 count 2\n", "E-beta-needs-s", 2, 26, 30,
     "optimize's beta masks StyleSpace channels: it needs space=s", "add space=s, or drop beta to optimise W+"),
    ("generate seeds=1..2 truncation=1.5\n", "E-range", 1, 32, 35,
     "truncation must be 0 < x <= 1, got 1.5", None),
    (HEAD + "global 'smile' keep='beard, Smile'\n", "E-keep-own-text", 2, 21, 35,
     "keep names the edit's own text 'smile'",
     KEEP_HINT),
    (HEAD + "optimize 'smile' keep='smile'\n", "E-keep-own-text", 2, 23, 30,
     "keep names the edit's own text 'smile'",
     KEEP_HINT),
    (HEAD + "global 'x' neutral=3\n", "E-type", 2, 20, 21, "neutral must be a string, got a number (3)", None),
    (HEAD + "mapper 'x' strength='big'\n", "E-type", 2, 21, 26, "strength must be a number, got a string ('big')", None),
    (HEAD + "global 'x' neutral=['a', 'b']\n", "E-sweep-non-numeric", 2, 20, 30,
     "cannot sweep 'neutral': it is a string parameter", "sweeps work on numeric parameters"),
    (HEAD + "global 'x' alpha=0..4 count 3 beta=[0.1, 0.2]\n", "E-multiple-sweeps", 2, 36, 46,
     "a second sweep ('beta') in one edit",
     "one parameter per edit may sweep ('alpha' does already); chain another edit with `then` for a second sweep"),
    (HEAD + "global 'x' beta=-1..1 step 1\n", "E-range", 2, 17, 29, "beta must be >= 0; the sweep reaches -1.0", None),
    (HEAD + "global 'x' alpha=0..4 step 0\n", "E-sweep", 2, 28, 29, "a sweep step must be > 0",
     "ranges run downward by themselves when b < a"),
    (HEAD + "global 'x' alpha=0..1 step 0.0001\n", "E-sweep", 2, 18, 34, "sweep has 10001 values (at most 1000)",
     "use a larger step or `count N`"),
    (HEAD + "then mapper 'smile'\n", "E-then-without-edit", 2, 1, 20,
     "`then` has no edit to chain onto (subject 'photo')",
     "start the branch with `apply ...` or a shorthand such as `global 'smile'`"),
    ("global 'smile'\n", "E-no-subject", 1, 1, 15, "nothing to edit yet",
     "start with `invert PATH`, `generate seeds=1..4` or `load FILE`"),
    (HEAD + "on ada\n", "E-unknown-name", 2, 4, 7, "no subject named 'ada' (yet)", "subjects so far: photo"),
    (HEAD + "on phto\n", "E-unknown-name", 2, 4, 8, "no subject named 'phto' (yet)", "did you mean 'photo'?"),
    (HEAD + "invert other/photo.png\n", "E-duplicate-name", 2, 1, 23,
     "subject 'photo' is already defined on line 1", "give this one another name with `as NAME`"),
    (HEAD + "seed 1\nseed 2\n", "E-duplicate-setting", 3, 1, 7, "'seed' is already set on line 2",
     "a recipe sets `seed` once; remove one of them"),
    ("seed 1.5\n", "E-type", 1, 6, 9, "seed must be an integer from 0 to 4294967295, got 1.5", None),
    ("device gpu\n", "E-unknown-device", 1, 8, 11, "unknown device 'gpu'", "did you mean 'cuda'?"),
    ("device tensor\n", "E-unknown-device", 1, 8, 14, "unknown device 'tensor'", "use cpu, cuda, cuda:N, mps or auto"),
    (HEAD + "save out/{nmae}.png\n", "E-unknown-placeholder", 2, 10, 16, "unknown placeholder '{nmae}'",
     "did you mean 'name'?"),
    (HEAD + "save 'out/{nmae}.png'\n", "E-unknown-placeholder", 2, 11, 17, "unknown placeholder '{nmae}'",
     "did you mean 'name'?"),
    (HEAD + "global 'x'\nsave out/{alpha}.png\n", "E-unknown-placeholder", 3, 10, 17, "unknown placeholder '{alpha}'",
     "{alpha} is only known when the saved result sweeps alpha"),
    (HEAD + "save out/{name.png\n", "E-placeholder", 2, 10, 11, "unbalanced '{' in path", "placeholders look like {name}"),
    (HEAD + "global 'x'\nsave animation out/a.gif\n", "E-animation-without-sweep", 3, 1, 25,
     "`save animation` needs a sweep: its frames are the sweep's values",
     "sweep a parameter, e.g. `global 'smile' alpha=0..6 count 5`, or use `save grid`"),
    (HEAD + "global 'x' alpha=0..4 count 3\nsave out/{name}.png\n", "E-overwrite", 3, 6, 20,
     "every value of the sweep over 'alpha' would be saved to the same file",
     "add {alpha} to the path, or use `save grid` / `save animation`"),
    ("generate seeds=1..3\nsave out/x.png\n", "E-overwrite", 2, 6, 15,
     "all items of 'samples' would be saved to the same file",
     "add {name} or {index} to the path, or use `save grid`"),
    (HEAD + "export latent out/x.png\n", "E-latent-format", 2, 15, 24, "cannot export latents to 'out/x.png'",
     "use a path ending in .pt or .npz"),
    ("load codes.txt\n", "E-latent-format", 1, 6, 15, "cannot load latents from 'codes.txt'",
     "latent files end in .pt, .npz, .npy"),
    (HEAD + "expect clp('x') > 1\n", "E-unknown-metric", 2, 8, 11, "unknown metric 'clp'", "did you mean 'clip'?"),
    (HEAD + "expect id_sim('a') > 0.5\n", "E-metric-arity", 2, 1, 25, "id_sim() takes 0 arguments, got 1",
     "write id_sim()"),
    (HEAD + "expect clip() > 0.5\n", "E-metric-arity", 2, 1, 20, "clip() takes 1 argument, got 0", "write clip(text)"),
    (HEAD + "expect clip(3) > 0.5\n", "E-type", 2, 13, 14, "clip(): text must be a string, got a number (3)", None),
    (HEAD + "expect attribute(eyes) > 'closed'\n", "E-compare", 2, 1, 34,
     "attribute() is compared with == or !=, not >", "e.g. expect attribute(hair_style) == 'curly'"),
    (HEAD + "expect psnr() > 'high'\n", "E-type", 2, 17, 23, "psnr() is compared to a number, got a string ('high')", None),
    (HEAD + "expect golden('g.png', tl=0.1) < 0.1\n", "E-unknown-param", 2, 24, 26,
     "unknown parameter 'tl' for metric 'golden'", "did you mean 'tol'?"),
    ("generate truncation=0.5\n", "E-generate-seeds", 1, 1, 24, "generate needs `seed=N` or `seeds=A..B`",
     "e.g. `generate seeds=1..4 as samples`"),
    ("generate seed=1 seeds=2..3\n", "E-generate-seeds", 1, 17, 27, "generate takes `seed` or `seeds`, not both",
     "use seeds=A..B (or a list) for several samples"),
    ("generate seeds=1..3 truncation=0.5..0.7 step 0.1\n", "E-sweep-not-allowed", 1, 32, 49,
     "'truncation' cannot be swept here", None),
    (HEAD + "global ''\n", "E-empty-text", 2, 8, 10, "the edit's text is empty", "e.g. 'curly hair'"),
]


@pytest.mark.parametrize("text, code, line, column, end_column, message, hint", CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_error_class(text, code, line, column, end_column, message, hint):
    _, diagnostics = check(text, "r.sc")
    assert [d.code for d in diagnostics] == [code], [str(d) for d in diagnostics]
    d = diagnostics[0]
    assert (d.span.line, d.span.column, d.span.end_column) == (line, column, end_column)
    assert d.message == message
    assert d.hint == hint
    assert d.severity == "error"
    assert d.location() == f"r.sc:{line}:{column}"


def test_glob_subject_saved_to_one_file_is_a_warning():
    _, diagnostics = check("invert photos/*.png\nglobal 'smile'\nsave out/x.png\n")
    assert [(d.code, d.severity, d.span.line) for d in diagnostics] == [("W-overwrite", "warning", 3)]


def test_every_error_is_reported_in_one_pass():
    text = (
        "invert photo.jpg\n"
        "global 'x' bta=1\n"          # unknown param
        "mapper 'y' strength='a'\n"   # type
        "save out/{nme}.png\n"        # placeholder
        "expect clp('x') > 1\n"       # metric
    )
    _, diagnostics = check(text)
    assert [(d.code, d.span.line) for d in diagnostics] == [
        ("E-unknown-param", 2), ("E-type", 3), ("E-unknown-placeholder", 4), ("E-unknown-metric", 5),
    ]


def test_syntax_errors_do_not_cause_follow_up_errors():
    # line 1 does not parse, so 'photo' is never defined: the edits after it
    # must not be reported as "nothing to edit", but their own faults are.
    text = "invert 'photo.jpg\nglobal 'x' bta=1\nthen mapper 'smile'\n"
    _, diagnostics = check(text)
    assert [(d.code, d.span.line) for d in diagnostics] == [("E-syntax-string", 1), ("E-unknown-param", 2)]


def test_flow_errors_before_the_first_broken_statement_are_reported():
    text = "then mapper 'smile'\ninvrt photo.jpg\nthen mapper 'smile'\n"
    _, diagnostics = check(text)
    assert [(d.code, d.span.line) for d in diagnostics] == [("E-no-subject", 1), ("E-unknown-statement", 2)]


def test_sweeps_and_placeholders_follow_the_chain():
    text = (
        "invert photo.jpg\n"
        "global 'x' alpha=0..4 count 3\n"
        "then mapper 'smile'\n"
        "save out/{name}_{alpha}_{step}.png\n"   # the sweep is still in the chain
        "save animation out/{name}.gif\n"
        "apply 'y' via mapper\n"                  # a new branch: no sweep any more
        "save animation out/b.gif\n"
    )
    _, diagnostics = check(text)
    assert [(d.code, d.span.line) for d in diagnostics] == [("E-animation-without-sweep", 7)]


def test_on_switches_the_subject_that_then_chains_onto():
    text = (
        "invert ada.png\nglobal 'smile'\n"
        "invert bo.png\n"
        "then mapper 'x'\n"          # bo has no edit yet
        "on ada\nthen mapper 'x'\n"  # ada has one
    )
    _, diagnostics = check(text)
    assert [(d.code, d.span.line, d.message) for d in diagnostics] == [
        ("E-then-without-edit", 4, "`then` has no edit to chain onto (subject 'bo')")
    ]


def test_valid_recipe_has_no_diagnostics():
    text = (
        "use toon; seed 7; device cuda:0\n"
        "invert photo.jpg; apply 'curly hair' via global alpha=4 beta=0.15; then mapper 'smile'\n"
        "generate seeds=[1, 5, 9] truncation=0.5 as trio\n"
        "optimize 'glasses' steps=20 space=s beta=0.15\n"
        "save out/{subject}_{index}_{text}_{engine}.png\n"
        "expect golden('gold.png', tol=0.05) < 0.1\n"
        "expect attribute(glasses) != 'none'\n"
        "export latent out/{name}.npz\n"
    )
    recipe, diagnostics = check(text)
    assert diagnostics == []
    assert recipe is not None and len(recipe.statements) == 12
