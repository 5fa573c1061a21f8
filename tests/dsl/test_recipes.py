"""The example recipes in recipes/: all check clean and stay cheap enough for CI on a CPU."""
from __future__ import annotations

from pathlib import Path

import pytest

from styleclip_dsl.api import compile_recipe

RECIPES_DIR = Path(__file__).resolve().parents[2] / "recipes"
RECIPES = sorted(RECIPES_DIR.glob("*.sc"))
PHOTOS = {"photos/ada.png", "photos/bo.png", "photos/cy.png", "photos/dee.png"}
MAX_ITEMS, MAX_OPTIMIZE_STEPS, MAX_SWEEP = 4, 60, 5


def test_there_are_at_least_five_recipes_including_the_demo():
    assert len(RECIPES) >= 5
    assert RECIPES_DIR / "demo.sc" in RECIPES


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_recipe_is_clean_cheap_and_documented(recipe: Path):
    text = recipe.read_text()
    assert text.startswith("# "), "each recipe starts with a comment saying what it shows"
    plan, diagnostics = compile_recipe(text, recipe.name)
    assert plan is not None and diagnostics == [], [str(d) for d in diagnostics]
    items = 0
    for step in plan.to_dict()["steps"]:
        if step["kind"] == "source":
            assert step["params"].get("paths", []) == [] or set(step["params"]["paths"]) <= PHOTOS
            items += len(step["params"].get("paths") or step["params"].get("seeds") or [1])
        elif step["kind"] == "edit":
            for entry in step["edits"]:
                assert entry["params"].get("steps", 0) <= MAX_OPTIMIZE_STEPS
            if step["sweep"]:
                assert len(step["sweep"]["values"]) <= MAX_SWEEP
                if step["sweep"]["param"] == "steps":
                    assert max(step["sweep"]["values"]) <= MAX_OPTIMIZE_STEPS
        elif step["kind"] in ("save", "export"):
            assert step["path"].startswith("out/")
    assert items <= MAX_ITEMS


def test_readme_lists_every_recipe():
    readme = (RECIPES_DIR / "README.md").read_text()
    for recipe in RECIPES:
        assert f"({recipe.name})" in readme
