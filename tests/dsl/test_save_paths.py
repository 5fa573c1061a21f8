"""What `styleclip check` knows about output paths before running (issue #20 item 3)."""
from __future__ import annotations

from styleclip_dsl.api import check
from styleclip_dsl.save_paths import fill, path_problem, slug


def codes(text: str) -> list[tuple[str, int]]:
    _, diagnostics = check(text, "t.sc")
    return [(d.code, d.span.line) for d in diagnostics]


def test_slugs_never_climb_or_hide() -> None:
    assert slug("curly hair") == slug("curly_hair") == "curly_hair"
    assert slug("..") == "__" and slug(".") == "_" and slug("/") == "_"
    assert slug(2.5) == "2.5"
    assert fill("out/{text}/{name}.png", {"text": "..", "name": "../../etc/passwd"}) == "out/__/.._.._etc_passwd.png"
    assert path_problem(fill("{text}/x.png", {"text": ".."})) is None


def test_absolute_paths_and_dotdot_are_refused() -> None:
    for path in ("/tmp/x.png", "out/../../x.png", "~/x.png", "C:/x.png", "..\\x.png"):
        assert path_problem(path) is not None, path
    assert path_problem("out/a..b/x.png") is None
    assert codes("generate seed=1\nsave /tmp/x.png\nexport latent ../x.pt\n") == [
        ("E-output-path", 2), ("E-output-path", 3)]


def test_texts_that_slug_alike_collide_at_check_time() -> None:
    recipe = ("invert a.png as p\nglobal 'curly hair'\nsave out/{name}_{text}.png\n"
              "global 'curly_hair'\nsave out/{name}_{text}.png\n")
    assert codes(recipe) == [("E-output-collision", 5)]
    assert codes(recipe.replace("'curly_hair'", "'wavy hair'")) == []


def test_collisions_across_subjects_and_modes() -> None:
    assert codes("generate seeds=1..3 as a\nsave out/{name}.png\ngenerate seeds=3..4 as b\nsave out/{name}.png\n") \
        == [("E-output-collision", 4)]
    assert codes("generate seeds=1..2 as a\nsave out/{name}.png\ngenerate seeds=3..4 as b\nsave out/{name}.png\n") \
        == []
    assert codes("generate seeds=1..2 as a\nsave grid out/g.png\ngenerate seed=3 as b\nsave out/g.png\n") \
        == [("E-output-collision", 4)]
    # a glob's names are unknown: the same template on the same subject collides, on another it may not
    assert codes("invert p/*.png as a\nsave out/{name}.png\nglobal 'x'\nsave out/{name}.png\n") \
        == [("E-output-collision", 4)]
    assert codes("invert p/*.png as a\nsave out/{name}.png\ninvert q/*.png as b\nsave out/{name}.png\n") == []


def test_a_save_that_may_be_an_input_is_a_warning() -> None:
    assert codes("invert photos/ada.png\nglobal 'x'\nsave photos/{name}.png\n") == [("W-output-is-input", 3)]
    assert codes("invert photos/*.png\nglobal 'x'\nsave photos/{name}_x.png\n") == [("W-output-is-input", 3)]
    assert codes("invert photos/*.png\nglobal 'x'\nsave out/{name}.png\n") == []


def test_golden_paths_that_leave_the_recipe_folder_are_errors() -> None:
    """`test --update-golden` writes golden images: one written as '../x.png' or an absolute path would
    land outside the recipe's folder, so the checker refuses it where it is written."""
    _, diagnostics = check("generate seed=1\nexpect golden('../x.png') < 0.1\nexpect golden('/tmp/g.png') < 0.1\n"
                           "expect golden('golden/{name}.png') < 0.1\n", "t.sc")
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [
        ("E-golden-path", 2, 15), ("E-golden-path", 3, 15)]
    assert "'..'" in diagnostics[0].message and "absolute" in diagnostics[1].message


def test_a_golden_path_through_a_symlink_out_of_the_folder_is_refused_before_running(tmp_path) -> None:
    from typer.testing import CliRunner

    from styleclip_dsl.cli import app
    from styleclip_dsl.file_checks import file_diagnostics

    recipe_dir, elsewhere = tmp_path / "recipes", tmp_path / "elsewhere"
    recipe_dir.mkdir()
    elsewhere.mkdir()
    (recipe_dir / "golden").symlink_to(elsewhere, target_is_directory=True)
    (recipe_dir / "one.png").symlink_to(elsewhere / "one.png")
    (recipe_dir / "inside").mkdir()
    text = ("generate seed=1\nexpect golden('golden/{name}.png') < 0.1\nexpect golden('one.png') < 0.1\n"
            "expect golden('inside/{name}.png') < 0.1\n")
    _, language = check(text, "t.sc")
    assert language == []  # as written, the paths are fine: only the folder's links say otherwise
    found = file_diagnostics(text, "t.sc", language, recipe_dir)
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("E-golden-path", 2, 15), ("E-golden-path", 3, 15)]
    assert str(elsewhere.resolve()) in found[0].message
    (recipe_dir / "t.sc").write_text(text)
    result = CliRunner().invoke(app, ["test", str(recipe_dir / "t.sc"), "--update-golden"])
    assert result.exit_code == 2, result.output  # invalid recipe: nothing ran, nothing written
    assert list(elsewhere.iterdir()) == []
    result = CliRunner().invoke(app, ["check", str(recipe_dir / "t.sc")])
    assert result.exit_code == 2 and "t.sc:2:15" in result.output and "outside the recipe's folder" in result.output
