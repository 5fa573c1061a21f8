"""`plan --explain` (runtime.explain): what it says is cached is what a run then finds.

The point of the feature is to tell, before anything runs, which expensive
results a run will reuse and which it must compute. So the tests run the
executor on the tiny model set and check that the explanation before the
run says "compute"/"train" and the one after says "cached", for the same
keys; that problems (a missing image, a mapper a set cannot train) come
with their step; and that estimates follow the model set's table.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from styleclip_runtime.cache.result_cache import Cache
from styleclip_runtime.execution.errors import StepError
from styleclip_runtime.execution.explain import explain_plan
from styleclip_runtime.models.modelset import ModelSet
from styleclip_runtime.execution.build_executor import open_executor, results_cache_dir
from typer.testing import CliRunner

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.cli import app

from .test_executor import GLOBAL, complete, make_plan


@pytest.fixture(autouse=True)
def photos(tmp_path) -> Path:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(photos / f"{name}.png")
    return photos


def explain(yaml_path: Path, plan: dict, base: Path, device: str = "cpu"):
    ms = ModelSet.load(str(yaml_path))
    return explain_plan(plan, ms, Cache(results_cache_dir(ms)), base, device)


def statuses(explanation, kind: str) -> list[str]:
    return [n.status for n in explanation.needs if n.kind == kind]


def chain_plan() -> dict:
    return make_plan([
        {"kind": "source", "op": "invert", "subject": "p", "params": {"paths": ["photos/*.png"]}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "curly hair", "params": GLOBAL}],
         "sweep": {"param": "beta", "values": [0.0, 0.05]}},
        {"kind": "edit", "input": "s2", "engine": "mapper", "edits": [{"text": "smile", "params": {"strength": 1.0}}],
         "sweep": None},
        {"kind": "save", "input": "s3", "mode": "grid", "path": "out/grid.png"},
    ])


def test_what_is_explained_as_cached_is_what_the_run_reuses(env, tmp_path) -> None:
    plan = chain_plan()
    before = explain(env, plan, tmp_path)
    assert statuses(before, "inversion") == ["compute", "compute"]
    assert statuses(before, "direction") == ["compute", "compute"]  # one per beta of the sweep
    assert statuses(before, "global-stats") == ["shipped"]          # once, though two directions need it
    assert statuses(before, "mapper") == ["train"]                 # the tiny set trains mappers on first use
    assert [s.items for s in before.steps] == [2, 4, 4, 4]         # 2 photos x 2 sweep values
    assert not before.problems

    executor = open_executor(str(env), "cpu", lambda e: None)
    report = executor.run(plan, "# recipe\n", tmp_path, tmp_path)
    assert report.timings[0]["inversion_cache_misses"] == 2

    after = explain(env, plan, tmp_path)
    assert statuses(after, "inversion") == ["cached", "cached"]
    assert statuses(after, "direction") == ["cached", "cached"]
    assert statuses(after, "mapper") == ["cached"]
    # the keys are the executor's: each one explained is a file in the cache
    cache = executor.models.cache
    assert all(cache.has(n.kind, n.key) for n in after.needs if n.key)
    assert after.estimated_seconds() is None  # nothing left to compute (and the tiny set has no estimates)

    # a new image and a new beta are all that a changed recipe must compute
    Image.fromarray(np.full((24, 24, 3), 7, dtype=np.uint8)).save(tmp_path / "photos" / "c.png")
    plan["steps"][1]["sweep"]["values"] = [0.0, 0.1]
    changed = explain(env, plan, tmp_path)
    assert sorted(statuses(changed, "inversion")) == ["cached", "cached", "compute"]
    assert statuses(changed, "direction") == ["cached", "compute"]

    # a direction that keeps texts is another direction: explained as to compute, though the plain one is cached
    plan["steps"][1]["edits"][0]["params"] = complete("global", {**GLOBAL, "keep": "glasses"})
    plan["steps"][1]["sweep"]["values"] = [0.0, 0.05]
    kept = explain(env, plan, tmp_path)
    assert statuses(kept, "direction") == ["compute", "compute"]
    assert all("keeping glasses" in n.what for n in kept.needs if n.kind == "direction")
    executor.run(plan, "# recipe\n", tmp_path, tmp_path)
    assert statuses(explain(env, plan, tmp_path), "direction") == ["cached", "cached"]


def test_problems_name_their_step_and_a_set_that_cannot_train_says_so(env, tmp_path) -> None:
    spec = yaml.safe_load(env.read_text())
    spec["name"] = "tiny-fixed"
    spec["defaults"]["auto_train_mappers"] = False
    spec["mappers"] = {"frown": {"path": "gone.safetensors"}}  # listed, but not on this machine
    fixed = env.parent / "tiny-fixed.yaml"
    fixed.write_text(yaml.safe_dump(spec))
    plan = make_plan([
        {"kind": "source", "op": "invert", "subject": "p", "params": {"paths": ["photos/a.png", "photos/gone.png"]}},
        {"kind": "edit", "input": "s1", "engine": "mapper", "edits": [{"text": "smile", "params": {"strength": 1.0}}],
         "sweep": None},
    ], modelset="tiny-fixed")
    explanation = explain(fixed, plan, tmp_path)
    source, mapper = explanation.steps
    assert source.items == 1 and statuses(explanation, "inversion") == ["compute"]  # a.png is still explained
    assert len(source.problems) == 1 and "gone.png" in source.problems[0]
    assert [n.status for n in mapper.needs] == ["missing"]
    assert "styleclip train mapper 'smile'" in mapper.problems[0]
    plan["steps"][1]["edits"][0]["text"] = "frown"
    frown = explain(fixed, plan, tmp_path).steps[1]
    assert [n.status for n in frown.needs] == ["missing"] and "gone.safetensors is missing" in frown.problems[0]


def variant_with_optimization(env: Path, name: str, defaults: dict, steps: int) -> tuple[dict, Path, dict]:
    """(spec, YAML path, plan): the tiny set under ``name`` with ``defaults`` added, and
    ``chain_plan`` on it with an optimization of 'smile' (``steps`` steps) after the mapper."""
    spec = yaml.safe_load(env.read_text())
    spec["name"] = name
    spec["defaults"].update(defaults)
    path = env.parent / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    plan = chain_plan()
    plan["modelset"] = name
    plan["steps"].insert(3, {**plan["steps"][2], "id": "s9", "engine": "optimize",
                             "edits": [{"text": "smile", "params": complete("optimize", {
                                 "steps": steps, "lr": 0.1, "l2": 0.0, "id": 0.0, "space": "wplus", "beta": 0.0,
                                 "neutral": "a face"})}]})
    return spec, path, plan


def test_estimates_come_from_the_model_sets_table(env, tmp_path) -> None:
    spec, timed, plan = variant_with_optimization(env, "tiny-timed", {"estimates": {"cpu": {
        "basis": "made up for the test", "invert_per_image": 2.0, "direction": 0.5, "mapper_training_step": 10.0,
        "optimize_step_per_image": 0.25}}}, steps=40)
    explanation = explain(timed, plan, tmp_path)
    # 2 inversions x 2 s + 2 directions x 0.5 s + 3 training steps x 10 s + 40 steps x 4 subjects x 0.25 s
    assert explanation.estimated_seconds() == pytest.approx(4.0 + 1.0 + 30.0 + 40.0)
    assert explanation.estimates_basis == "made up for the test"
    assert statuses(explanation, "optimization") == ["on-input"]
    assert explain(timed, plan, tmp_path, device="cuda").estimated_seconds() is None  # no table for cuda
    # views=4: three CLIP copies beyond the image; the set gives no per-view figure, so the estimate says so
    plan["steps"][3]["edits"][0]["params"]["views"] = 4
    (opt,) = explain(timed, plan, tmp_path).steps[3].needs
    assert opt.seconds == pytest.approx(40.0) and opt.what.endswith("(views not in the estimate)")
    spec["defaults"]["estimates"]["cpu"]["optimize_view_per_image"] = 0.05
    timed.write_text(yaml.safe_dump(spec))
    (opt,) = explain(timed, plan, tmp_path).steps[3].needs
    assert opt.seconds == pytest.approx(40 * 4 * (0.25 + 3 * 0.05)) and "views" not in opt.what
    plan["steps"][3]["edits"][0]["params"]["views"] = 0
    plan["steps"][3]["sweep"] = {"param": "lr", "values": [0.05, 0.1, 0.2]}  # each variant optimizes anew
    assert explain(timed, plan, tmp_path).estimated_seconds() == pytest.approx(4.0 + 1.0 + 30.0 + 3 * 40.0)


def test_a_masked_optimization_that_keeps_texts_needs_the_conditional_direction(env, tmp_path) -> None:
    """``optimize space=s beta=B keep='...'`` masks with the direction made orthogonal to the kept
    texts, so that is the direction explained (and computed), not the plain one."""
    _, path, plan = variant_with_optimization(env, "tiny-keep", {}, steps=2)
    plan["steps"][3]["edits"][0]["params"].update(space="s", beta=0.05, keep="glasses, a beard")
    needs = [n for n in explain(path, plan, tmp_path).steps[3].needs if n.kind == "direction"]
    assert [n.what for n in needs] == ["'a face' -> 'smile' at beta 0.05, keeping glasses, a beard"]


def test_diff_results_lists_what_the_second_recipe_must_compute(env, tmp_path) -> None:
    first = "invert photos/a.png as p\nglobal 'curly hair' alpha=1 beta=0.0\nsave out/{name}.png\n"
    (tmp_path / "a.sc").write_text(first)
    (tmp_path / "b.sc").write_text(first.replace("beta=0.0", "beta=0.05").replace("a.png", "*.png"))
    plan, _ = compile_recipe(first, "a.sc", {"use": "tiny"})
    open_executor(str(env), "cpu", lambda e: None).run(json.loads(plan.to_json()), first, tmp_path, tmp_path)
    result = CliRunner().invoke(app, ["diff", str(tmp_path / "a.sc"), str(tmp_path / "b.sc"), "--results",
                                      "--models", str(env), "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    new = sorted((n["kind"], n["what"], n["cached"]) for n in data["results"]["new"])
    assert new == [("direction", "'a face' -> 'curly hair' at beta 0.05", False), ("inversion", "b.png", False)]
    assert data["results"]["reused"] == 1  # a.png's inversion
    assert data["results"]["dropped"] == [{"kind": "direction", "what": "'a face' -> 'curly hair' at beta 0"}]
    # the first run's run.json in place of a.sc: it records the recipe's folder, so the images are
    # found there and not in the working folder the diff runs from
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert Path(manifest["recipe"]["folder"]) == tmp_path.resolve() and Path.cwd() != tmp_path.resolve()
    result = CliRunner().invoke(app, ["diff", str(tmp_path / "out" / "run.json"), str(tmp_path / "b.sc"),
                                      "--results", "--models", str(env), "--json"])
    from_run = json.loads(result.stdout)["results"]
    assert from_run["reused"] == 1 and from_run["dropped"] == data["results"]["dropped"]
    assert sorted((n["kind"], n["what"], n["cached"]) for n in from_run["new"]) == new


def test_a_run_that_must_train_says_so_first_and_not_once_it_is_cached(env, tmp_path) -> None:
    spec = yaml.safe_load(env.read_text())
    spec["name"] = "tiny-slow"
    spec["defaults"]["estimates"] = {"cpu": {"mapper_training_step": 20.0, "invert_per_image": 0.1}}
    slow = env.parent / "tiny-slow.yaml"
    slow.write_text(yaml.safe_dump(spec))
    plan = chain_plan()
    plan["modelset"] = "tiny-slow"

    def run_events() -> list[dict]:
        events: list[dict] = []
        open_executor(str(slow), "cpu", events.append).run(plan, "# recipe\n", tmp_path, tmp_path)
        return events

    first = run_events()
    start = next(e for e in first if e["event"] == "run_start")
    assert start["estimated_seconds"] == pytest.approx(3 * 20.0 + 2 * 0.1)  # 3 training steps, 2 inversions
    notices = [e["message"] for e in first if e["event"] == "notice"]
    assert notices[0].startswith("this run may take a while (about 60 s on cpu): train mapper 'smile'")
    from styleclip_runtime.cache.trained_mappers import trained_prompts

    assert trained_prompts(results_cache_dir(ModelSet.load(str(slow)))) == ["smile"]  # what `check` knows
    again = run_events()
    assert next(e for e in again if e["event"] == "run_start")["estimated_seconds"] is None  # all cached
    assert not [e for e in again if e["event"] == "notice"]


def test_repl_explain_says_what_a_line_would_cost_before_it_runs(env, tmp_path) -> None:
    import io

    from rich.console import Console

    from styleclip_dsl.repl.session import ReplSession
    from styleclip_dsl.repl.shell import Shell

    buffer = io.StringIO()
    session = ReplSession(models=str(env), device="cpu", base_dir=tmp_path, out_dir=tmp_path)
    shell = Shell(session, Console(file=buffer, width=160, color_system=None), protocol="blocks")
    assert shell.handle("invert photos/a.png as p").ok
    buffer.truncate(0)
    buffer.seek(0)
    assert shell.handle(":explain mapper 'frown'").ok
    out = buffer.getvalue()
    assert "mapper: 'frown' (3 training steps)" in out and "train" in out
    assert "inversion" not in out                   # only what the line adds
    assert session.entries == ["invert photos/a.png as p"]  # nothing ran, nothing was accepted
    assert shell.handle("mapper 'frown'").ok
    explanation, _ = session.explain()
    assert {(n.kind, n.status) for n in explanation.needs} == {("inversion", "cached"), ("mapper", "cached")}
    assert not shell.handle(":explain glob 'x'").ok   # a statement that does not compile


def test_the_estimate_and_the_inversion_decode_each_image_once(env, tmp_path) -> None:
    """The estimate that opens a run decodes the photos to find their inversions; the invert step
    reuses those digests and pixels (image_input.ImageDigests), and a changed file is read again."""
    plan = chain_plan()
    executor = open_executor(str(env), "cpu", lambda e: None)
    report = executor.run(plan, "# recipe\n", tmp_path, tmp_path)
    assert report.timings[0]["inversion_cache_misses"] == 2
    assert executor.image_digests.decoded == 2
    held = executor.image_digests.held()  # kept, by sha256, for a photo column or `save aligned`, under the limit
    assert len(held) == 2 and executor.image_digests.held_bytes == sum(a.nbytes for a in held)
    assert executor.image_digests.held_bytes <= executor.image_digests.max_bytes
    executor.run(plan, "# recipe\n", tmp_path, tmp_path)  # everything cached: nothing decoded again
    assert executor.image_digests.decoded == 2
    Image.fromarray(np.full((24, 24, 3), 9, dtype=np.uint8)).save(tmp_path / "photos" / "a.png")
    again = executor.run(plan, "# recipe\n", tmp_path, tmp_path)
    assert executor.image_digests.decoded == 3
    assert again.timings[0]["inversion_cache_misses"] == 1  # the new a.png, not the remembered result


def test_a_missing_network_file_is_named_with_where_to_put_it(env, tmp_path) -> None:
    spec = yaml.safe_load(env.read_text())
    spec["name"] = "tiny-partial"
    spec["clip"]["file"]["path"] = "no-such-clip.safetensors"
    partial = env.parent / "tiny-partial.yaml"
    partial.write_text(yaml.safe_dump(spec))
    plan = chain_plan()
    plan["modelset"] = "tiny-partial"
    explanation = explain(partial, plan, tmp_path)
    assert len(explanation.missing_files) == 1
    assert "the clip file no-such-clip.safetensors is missing" in explanation.missing_files[0]
    assert "put it here:" in explanation.missing_files[0]
    generate_only = make_plan([{"kind": "source", "op": "generate", "subject": "g",
                                "params": {"seeds": [1], "truncation": 0.7}}], modelset="tiny-partial")
    assert explain(partial, generate_only, tmp_path).missing_files == ()  # a plan that needs no CLIP


def test_a_latent_file_is_counted_and_checked_against_the_generator(env, tmp_path) -> None:
    import torch

    from styleclip_runtime.io.latents import LatentBatch, save_latents

    g = ModelSet.load(str(env)).generator
    save_latents(tmp_path / "mine.pt", LatentBatch(torch.zeros(3, g.n_latent, g.config.style_dim), ["a", "b", "c"],
                                                   "W+", ModelSet.load(str(env)).fingerprints()["generator"]))
    save_latents(tmp_path / "theirs.pt", LatentBatch(torch.zeros(1, g.n_latent, g.config.style_dim), ["x"], "W+",
                                                     "f" * 64))
    load = lambda name: make_plan([{"kind": "source", "op": "load", "subject": "l", "params": {"path": name}}])
    assert explain(env, load("mine.pt"), tmp_path).steps[0].items == 3
    other = explain(env, load("theirs.pt"), tmp_path).steps[0]
    assert other.items == 0 and "generator" in other.problems[0]


def test_optimization_and_training_say_how_much_device_memory_they_need(env, tmp_path) -> None:
    """A chunk of ``optimize_batch`` subjects (or the training batch) through the generator: the
    estimate grows with the chunk, and a budget below it names the batch that fits, or the CPU."""
    from styleclip_runtime.execution.memory_estimate import backward_estimate

    spec, mem, plan = variant_with_optimization(env, "tiny-mem", {"optimize_batch": 3}, steps=4)
    explanation = explain(mem, plan, tmp_path)
    (opt,) = [n for n in explanation.needs if n.kind == "optimization"]
    (train,) = [n for n in explanation.needs if n.kind == "mapper"]
    one = backward_estimate(ModelSet.load(str(mem)), 1)
    assert opt.memory.batch == 3 and opt.memory.total == one.weights + 3 * one.per_image  # 4 subjects, chunks of 3
    assert train.status == "train" and train.memory.batch == spec["defaults"]["mapper_training"]["batch"] == 2
    assert explanation.largest_memory() is opt
    assert explanation.memory_problems(None) == [] and explanation.memory_problems(10 ** 12) == []
    budget = one.weights + one.per_image + one.per_image // 2  # one image fits, two do not
    problems = {step: (message, fatal) for step, message, fatal in explanation.memory_problems(budget)}
    assert "batch 1 fits" in problems["s9"][0] and not problems["s9"][1]
    ((message, fatal),) = [v for k, v in problems.items() if k != "s9"]  # the mapper trained on first use
    assert fatal is False and "batch 1 fits" in message and "mapper_training: {batch: 1}" in message
    tiny_budget = one.weights  # not even one image
    assert all(fatal and "--device cpu" in message for _, message, fatal in explanation.memory_problems(tiny_budget))
    # the CLI: a warning when a smaller batch fits (exit 0), an error with the line when nothing does (exit 3)
    recipe = tmp_path / "m.sc"
    recipe.write_text("generate seeds=1..4\noptimize 'smile' steps=4\nsave out/{name}.png\n")
    ok = CliRunner().invoke(app, ["plan", str(recipe), "--explain", "--models", str(mem), "--device", "cpu",
                                  "--memory", str(budget / 1e9)])
    assert ok.exit_code == 0 and "warning" in ok.output and "batch 1 fits" in ok.output, ok.output
    bad = CliRunner().invoke(app, ["plan", str(recipe), "--explain", "--models", str(mem), "--device", "cpu",
                                   "--memory", str(tiny_budget / 1e9)])
    assert bad.exit_code == 3 and "m.sc:2:1: error" in bad.output and "--device cpu" in bad.output, bad.output


def test_listed_but_missing_statistics_are_missing_files(env, tmp_path) -> None:
    """A set whose YAML lists its statistics files (FFHQ's fs3.npy, S_mean_std) but lacks them: each is
    a missing file with a `models prefetch` hint, not hours of statistics to compute (#24 item 7)."""
    spec = yaml.safe_load(env.read_text())
    spec["name"] = "tiny-nostats"
    spec["global_stats"] = {"s_mean_std": {"name": "S_mean_std", "url": "https://example.org/S_mean_std"},
                            "fs3": {"name": "fs3.npy"}}
    spec["defaults"]["estimates"] = {"cpu": {"global_stats": 3100.0, "direction": 0.5}}
    path = env.parent / "tiny-nostats.yaml"
    path.write_text(yaml.safe_dump(spec))
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "g", "params": {"seeds": [1], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "smile", "params": GLOBAL}],
         "sweep": None},
    ], modelset="tiny-nostats")
    explanation = explain(path, plan, tmp_path)
    assert len(explanation.missing_files) == 2
    fs3, s_mean_std = sorted(explanation.missing_files)  # "...global_stats:fs3" < "...global_stats:s_mean_std"
    assert "S_mean_std is missing" in s_mean_std and "https://example.org/S_mean_std" in s_mean_std
    assert "fs3.npy is missing" in fs3
    assert all("styleclip models prefetch tiny-nostats --from DIR" in m for m in explanation.missing_files)
    stats = [n for n in explanation.needs if n.kind == "global-stats"]
    assert [(n.status, n.seconds) for n in stats] == [("missing", None)]  # not "compute, about 52 min"
    # a plan that needs no statistics does not ask for them
    generate_only = make_plan(plan["steps"][:1], modelset="tiny-nostats")
    assert explain(path, generate_only, tmp_path).missing_files == ()
    executor = open_executor(str(path), "cpu")  # and the run stops with that message (warm.py)
    with pytest.raises(StepError, match="fs3.npy is missing"):
        executor.run(plan, "# r\n", tmp_path, tmp_path)
