"""`styleclip run` end to end, as a user runs it: in subprocesses, on a
shared on-disk cache. The toy model set keeps these fast; the last test runs
the README demo on the shipped toon set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from styleclip_runtime.io.outputs import read_png_metadata

from .runtime.tiny_modelset import write_tiny_modelset

ROOT = Path(__file__).resolve().parents[1]

RECIPE = """\
seed 11
generate seeds=1..2 as pair
apply 'curly hair' via global alpha=4 beta=0.05
then mapper 'smile' strength=0.5
save out/{name}.png
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_modelset(tmp_path_factory.mktemp("tiny-models"))


def styleclip(args: list[str], cwd: Path, cache: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, STYLECLIP_CACHE=str(cache), OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "styleclip_dsl.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, input=stdin, timeout=600)


def test_png_metadata_recreates_the_image(tiny, tmp_path) -> None:
    """Read the recipe embedded in an output PNG, run it again: same bytes."""
    (tmp_path / "r.sc").write_text(RECIPE)
    first = styleclip(["run", "r.sc", "--models", str(tiny)], tmp_path, tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    image = tmp_path / "out" / "seed1.png"
    meta = read_png_metadata(image)
    assert meta["recipe"] == RECIPE and meta["seed"] == "11"
    again = tmp_path / "again"
    again.mkdir()
    (again / "from_png.sc").write_text(meta["recipe"])
    second = styleclip(["run", "from_png.sc", "--models", str(tiny), "--no-cache"], again, tmp_path / "cache2")
    assert second.returncode == 0, second.stderr
    assert (again / "out" / "seed1.png").read_bytes() == image.read_bytes()


def test_two_concurrent_runs_share_one_cache(tiny, tmp_path) -> None:
    (tmp_path / "r.sc").write_text(RECIPE)
    env = dict(os.environ, STYLECLIP_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-m", "styleclip_dsl.cli", "run", "r.sc", "--models", str(tiny),
                               "--out", f"o{i}", "--quiet"], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    for name in ("seed1.png", "seed2.png"):
        assert (tmp_path / "o0/out" / name).read_bytes() == (tmp_path / "o1/out" / name).read_bytes()
    # the mapper was trained once: one entry in the cache
    assert len(list((tmp_path / "cache").rglob("mapper/*/*.entry"))) == 1


def test_json_events_and_dry_run(tiny, tmp_path) -> None:
    (tmp_path / "r.sc").write_text(RECIPE)
    dry = styleclip(["run", "r.sc", "--models", str(tiny), "--dry-run"], tmp_path, tmp_path / "cache")
    assert dry.returncode == 0 and "mapper" in dry.stdout
    assert not (tmp_path / "out").exists()
    run = styleclip(["run", "-", "--models", str(tiny), "--json"], tmp_path, tmp_path / "cache", stdin=RECIPE)
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.count("step_end") == 4
    assert sorted(Path(p).name for p in events[-1]["outputs"]) == ["seed1.png", "seed2.png"]


def test_runtime_failure_names_the_line(tiny, tmp_path) -> None:
    (tmp_path / "r.sc").write_text("invert missing/*.png\nsave out/{name}.png\n")
    res = styleclip(["run", "r.sc", "--models", str(tiny)], tmp_path, tmp_path / "cache")
    assert res.returncode == 3
    assert "r.sc:1:1" in res.stderr and "no image matches" in res.stderr


def test_explain_names_the_line_that_would_fail(tiny, tmp_path) -> None:
    (tmp_path / "r.sc").write_text("invert missing.png\napply 'smile' via global alpha=1\nsave out/{name}.png\n")
    res = styleclip(["plan", "r.sc", "--explain", "--models", str(tiny)], tmp_path, tmp_path / "cache")
    assert res.returncode == 3
    assert "r.sc:1:1" in res.stderr and "missing.png" in res.stderr
    assert "direction" in res.stdout and "compute" in res.stdout


@pytest.mark.slow
def test_readme_demo_on_toon_then_cached(tmp_path) -> None:
    """The README's demo on the shipped toon set writes edited images and a
    manifest; a second run is served whole from the output cache (runtime/cache/output_cache.py)."""
    cache = tmp_path / "cache"
    explain = ["plan", str(ROOT / "recipes" / "demo.sc"), "--explain", "--json", "--device", "cpu"]
    before = styleclip(explain, tmp_path, cache)
    assert before.returncode == 0, before.stderr
    needs = [n for s in json.loads(before.stdout)["steps"] for n in s["needs"]]
    assert {(n["kind"], n["status"]) for n in needs} == {
        ("inversion", "compute"), ("direction", "compute"), ("global-stats", "shipped"), ("mapper", "shipped")}
    first = styleclip(["run", str(ROOT / "recipes" / "demo.sc"), "--out", "a"], tmp_path, cache)
    assert first.returncode == 0, first.stderr
    after = styleclip(explain[:-3], tmp_path, cache)  # the table, for people
    assert after.returncode == 0 and "everything this plan needs is shipped or cached" in after.stdout
    outs = sorted(p.name for p in (tmp_path / "a" / "out" / "demo").glob("*.png"))
    assert outs == ["ada_beard_smile.png", "beard_smile.png", "bo_beard_smile.png", "purple_sweep.png"]
    second = styleclip(["run", str(ROOT / "recipes" / "demo.sc"), "--out", "b"], tmp_path, cache)
    assert second.returncode == 0, second.stderr
    manifest = json.loads((tmp_path / "b" / "out" / "demo" / "run.json").read_text())
    steps = {s["id"]: s for s in manifest["steps"]}
    assert {s["cache"] for s in manifest["steps"]} == {"outputs"}  # nothing computed, nothing loaded
    assert manifest["cache"]["by_kind"] == {"outputs": {"hits": 1}}
    for name in outs:
        assert (tmp_path / "a/out/demo" / name).read_bytes() == (tmp_path / "b/out/demo" / name).read_bytes()
    assert steps
