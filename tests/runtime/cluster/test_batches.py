"""Splitting a plan into batches (torch- and Ray-free): every subject in exactly one batch, in order,
with the edits that descend from its source and none of the outputs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.model_names import ModelNames
from styleclip_runtime.cluster.batches import descendants, split_plan

PHOTOS = Path(__file__).resolve().parents[3] / "recipes" / "photos"


def plan_of(text: str) -> dict:
    plan, diags = compile_recipe(text, "t.sc", {}, names=ModelNames.discover())
    assert plan is not None, diags
    return json.loads(plan.to_json())


def test_subjects_split_in_order_with_their_edits_and_no_outputs(tmp_path) -> None:
    for p in sorted(PHOTOS.glob("*.png")):
        shutil.copy(p, tmp_path / p.name)
    plan = plan_of("use toon\ngenerate seeds=1..5 as crowd\nglobal 'smile' alpha=3\nsave out/{name}.png\n"
                   "invert *.png as friends\napply 'beard' via global alpha=2\nthen mapper 'smile'\n"
                   "save grid out/friends.png\nsave aligned out/{name}_crop.png\n")
    batches = split_plan(plan, tmp_path, batch_size=2)
    crowd = [b for b in batches if b.source_id == "s1"]
    friends = [b for b in batches if b.source_id != "s1"]
    assert [b.plan["steps"][0]["params"]["seeds"] for b in crowd] == [[1, 2], [3, 4], [5]]
    files = [p for b in friends for p in b.plan["steps"][0]["params"]["paths"]]
    assert files == [str(tmp_path / p.name) for p in sorted(PHOTOS.glob("*.png"))]
    assert [b.units for b in friends] == [min(2, len(files) - k) for k in range(0, len(files), 2)]
    assert [b.number for b in batches] == list(range(len(batches)))
    for b in batches:
        kinds = [s["kind"] for s in b.plan["steps"]]
        assert kinds[0] == "source" and set(kinds[1:]) == {"edit"}
        assert all(s["hash"].endswith(f"#batch{b.number}") for s in b.plan["steps"])  # no memo shared
    assert [s["engine"] for s in friends[0].plan["steps"][1:]] == ["global", "mapper"]
    # images are rendered for the grid's input, not for `save aligned` (the photo travels with the items)
    assert friends[0].rendered == (friends[0].plan["steps"][-1]["id"],)
    assert crowd[0].rendered == ("s2",)
    assert [s["id"] for s in descendants(plan, "s1")] == ["s2", "s3"]


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_plan(plan_of("use toon\ngenerate seed=1\nsave out/x.png\n"), Path("."), batch_size=0)
