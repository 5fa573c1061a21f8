"""The executor on a toy model set, driven by hand-written plans (the plan
JSON is the contract with the language; compiling recipes is tested in
tests/dsl and end to end in tests/test_end_to_end.py)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styleclip_runtime.execution.errors import StepError
from styleclip_runtime.io.outputs import read_png_metadata
from styleclip_runtime.execution.build_executor import open_executor

from styleclip_dsl.engines.registry import ENGINES

from .tiny_modelset import write_tiny_modelset


def make_plan(steps: list[dict], seed: int = 0, modelset: str = "tiny") -> dict:
    """A plan of hand-written steps; an edit's parameters left out get the engine's defaults and
    keep= its canonical form, as the compiler writes them (the runtime reads plans the compiler wrote)."""
    out = []
    hashes: dict[str, str] = {}
    for i, step in enumerate(steps, 1):
        step = {"id": f"s{i}", "span": {"line": i, "column": 1, "end_line": i, "end_column": 10}, **step}
        if step["kind"] == "edit":
            step["edits"] = [{**e, "params": complete(step["engine"], e["params"])} for e in step["edits"]]
        content = {k: v for k, v in step.items() if k not in ("span", "id")}
        if "input" in content:
            content["input"] = hashes[content["input"]]
        step["hash"] = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        hashes[step["id"]] = step["hash"]
        out.append(step)
    return {"version": 1, "modelset": modelset, "seed": seed, "device": None, "source_name": "t.sc",
            "steps": out}


GLOBAL = {"alpha": 4.0, "beta": 0.0, "neutral": "a face"}


def complete(engine: str, params: dict) -> dict:
    """An edit's parameters as the compiler writes them: the engine's defaults for what is left out,
    keep= in its canonical form."""
    spec = ENGINES[engine]
    return spec.normalise({**spec.defaults(), **params})


def run(yaml_path: Path, plan: dict, out: Path, base: Path | None = None, events=None):
    ex = open_executor(str(yaml_path), "cpu", events or (lambda e: None))
    return ex, ex.run(plan, "# recipe text\n", base or out, out)


def edit_plan(sweep=None) -> dict:
    return make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [1, 2], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "curly hair", "params": GLOBAL}],
         "sweep": sweep},
        {"kind": "save", "input": "s2", "mode": "image", "path": "out/{name}_{step}.png"},
        {"kind": "save", "input": "s2", "mode": "grid", "path": "out/grid.png"},
        {"kind": "export", "input": "s2", "path": "out/latents.pt"},
    ])


def test_generate_edit_save_and_manifest(env, tmp_path) -> None:
    ex, report = run(env, edit_plan(), tmp_path)
    names = sorted(p.name for p in report.outputs)
    assert names == ["grid.png", "latents.pt", "seed1_1.png", "seed2_1.png"]
    meta = read_png_metadata(tmp_path / "out" / "seed1_1.png")
    assert meta["recipe"] == "# recipe text\n" and meta["seed"] == "0"
    assert json.loads(meta["item"])["name"] == "seed1"
    assert "generator" in json.loads(meta["models"])
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert manifest["plan"]["steps"][1]["engine"] == "global"
    assert [s["id"] for s in manifest["steps"]] == ["s1", "s2", "s3", "s4", "s5"]
    assert manifest["models"]["generator"] and manifest["versions"]["torch"] == torch.__version__
    # the edit changed the image; the grid holds 2 rows (subjects) x 2 columns (source, result)
    from styleclip_runtime.io.outputs import to_uint8
    from styleclip_runtime.execution.state import render

    source_item = ex.memo[manifest["plan"]["steps"][0]["hash"]][0]
    src = to_uint8(render(ex.models.generator, [source_item], "cpu"))[0]
    edited = np.asarray(Image.open(tmp_path / "out" / "seed1_1.png"))
    assert edited.shape == src.shape and np.abs(edited.astype(int) - src).mean() > 1.0
    grid = np.asarray(Image.open(tmp_path / "out" / "grid.png"))
    assert grid.shape[0] > 2 * 64 and grid.shape[1] > 2 * 64


def test_a_typed_plan_runs_as_its_json_does(env, tmp_path) -> None:
    """The executor takes the typed Plan the compiler builds; its JSON data is read into the same
    typed steps, so both write the same bytes and run.json records the same plan."""
    from styleclip_dsl.plan import Plan

    _, from_json = run(env, edit_plan(), tmp_path / "a")
    _, from_plan = run(env, Plan.from_dict(edit_plan()), tmp_path / "b")
    assert [p.name for p in from_plan.outputs] == [p.name for p in from_json.outputs]
    for name in ("seed1_1.png", "seed2_1.png", "grid.png", "latents.pt"):
        assert (tmp_path / "a" / "out" / name).read_bytes() == (tmp_path / "b" / "out" / name).read_bytes(), name
    plans = [json.loads((tmp_path / d / "out" / "run.json").read_text())["plan"] for d in "ab"]
    assert plans[0] == plans[1]
    missing = Plan.from_dict(make_plan([{"kind": "source", "op": "load", "subject": "gone", "params": {"path": "no.pt"}}]))
    with pytest.raises(StepError) as failed:
        run(env, missing, tmp_path / "c")
    assert failed.value.span == {"line": 1, "column": 1, "end_line": 1, "end_column": 10}
    assert failed.value.step_data()["params"] == {"path": "no.pt"}  # what a Ray worker sends back


def test_second_run_hits_the_cache_and_is_byte_identical(env, tmp_path) -> None:
    _, first = run(env, edit_plan(), tmp_path / "a")
    _, second = run(env, edit_plan(), tmp_path / "b")  # a fresh process-level executor, same disk cache
    m2 = json.loads((tmp_path / "b" / "out" / "run.json").read_text())
    edit = next(s for s in m2["steps"] if s["kind"] == "edit")
    assert edit["direction_cache_hits"] == 1
    for name in ("seed1_1.png", "seed2_1.png", "grid.png"):
        a = (tmp_path / "a" / "out" / name).read_bytes()
        b = (tmp_path / "b" / "out" / name).read_bytes()
        assert a == b, name


def test_sweep_expands_into_variants_and_animation(env, tmp_path) -> None:
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [3], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "smile", "params": GLOBAL}],
         "sweep": {"param": "alpha", "values": [-4.0, 0.0, 4.0]}},
        {"kind": "save", "input": "s2", "mode": "image", "path": "sw/{name}_{alpha}.png"},
        {"kind": "save", "input": "s2", "mode": "animation", "path": "sw/{name}.gif"},
        {"kind": "expect", "input": "s2", "metric": "distance", "args": [], "kwargs": {}, "op": ">=", "value": 0.0},
    ])
    ex, report = run(env, plan, tmp_path)
    names = sorted(p.name for p in report.outputs)
    assert names == ["seed3.gif", "seed3_-4.png", "seed3_0.png", "seed3_4.png"]
    gif = Image.open(tmp_path / "sw" / "seed3.gif")
    assert gif.n_frames >= 3
    # alpha = 0 reproduces the source exactly
    zero = np.asarray(Image.open(tmp_path / "sw" / "seed3_0.png"))
    items = ex.memo[plan["steps"][1]["hash"]]
    from styleclip_runtime.io.outputs import to_uint8
    from styleclip_runtime.execution.state import render

    src = to_uint8(render(ex.models.generator, [items[1].root], "cpu"))[0]
    assert np.array_equal(zero, src)
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "sw" / "seed3_4.png")), src)
    measured = report.expectations[0].measured
    assert [round(v, 6) == 0 for _, v in measured] == [False, True, False]


def test_invert_is_cached_by_image_content(env, tmp_path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(photos / "a.png")
    plan = make_plan([
        {"kind": "source", "op": "invert", "subject": "photos", "params": {"paths": ["photos/*.png"]}},
        {"kind": "save", "input": "s1", "mode": "image", "path": "inv/{name}.png"},
    ])
    _, r1 = run(env, plan, tmp_path, base=tmp_path)
    assert r1.timings[0]["inversion_cache_misses"] == 1
    shutil.copy(photos / "a.png", photos / "renamed.png")   # same pixels, new name
    _, r2 = run(env, plan, tmp_path, base=tmp_path)
    assert r2.timings[0]["inversion_cache_hits"] == 2 and r2.timings[0]["inversion_cache_misses"] == 0
    bad = make_plan([{"kind": "source", "op": "invert", "subject": "x", "params": {"paths": ["nope/*.png"]}}])
    with pytest.raises(StepError, match="no image matches") as info:
        run(env, bad, tmp_path, base=tmp_path)
    assert info.value.span["line"] == 1
    (photos / "broken.png").write_bytes(b"not a png")
    with pytest.raises(StepError, match="cannot read image"):
        run(env, plan, tmp_path, base=tmp_path)


def test_exported_latents_load_back_and_refuse_another_generator(env, tmp_path, modelset_yaml) -> None:
    run(env, edit_plan(), tmp_path)
    exported = tmp_path / "out" / "latents.pt"
    plan = make_plan([
        {"kind": "source", "op": "load", "subject": "l", "params": {"path": str(exported)}},
        {"kind": "save", "input": "s1", "mode": "image", "path": "re/{name}.png"},
    ])
    _, report = run(env, plan, tmp_path)
    for name in ("seed1", "seed2"):  # the S offset travels with the latent
        assert (tmp_path / "re" / f"{name}.png").read_bytes() != b""
        a = np.asarray(Image.open(tmp_path / "re" / f"{name}.png"))
        b = np.asarray(Image.open(tmp_path / "out" / f"{name}_1.png"))
        assert np.array_equal(a, b)
    other = write_tiny_modelset(tmp_path / "other", name="tiny2", seed=1)
    load_only = make_plan([{"kind": "source", "op": "load", "subject": "l", "params": {"path": str(exported)}}],
                          modelset="tiny2")
    with pytest.raises(StepError, match="belong to generator"):
        run(other, load_only, tmp_path)


def test_too_high_beta_is_a_step_error_with_the_line(env, tmp_path) -> None:
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "s", "params": {"seeds": [1], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global",
         "edits": [{"text": "smile", "params": {**GLOBAL, "beta": 0.999}}], "sweep": None},
    ])
    with pytest.raises(StepError) as info:
        run(env, plan, tmp_path)
    assert info.value.span["line"] == 2 and "use beta below" in info.value.message


def test_mapper_is_trained_once_then_cached(env, tmp_path) -> None:
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "s", "params": {"seeds": [1], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "mapper", "edits": [{"text": "smile", "params": {"strength": 1.0}}],
         "sweep": {"param": "strength", "values": [0.0, 1.0]}},
        {"kind": "save", "input": "s2", "mode": "image", "path": "m/{name}_{strength}.png"},
    ])
    notices: list[str] = []
    events = lambda e: notices.append(e["message"]) if e["event"] == "notice" else None
    ex, _ = run(env, plan, tmp_path, events=events)
    assert any("training one now" in n for n in notices)
    notices.clear()
    ex2, _ = run(env, plan, tmp_path / "again", events=events)
    assert not any("training" in n for n in notices)
    assert ex2.models.cache.stats.by_kind["mapper"]["hits"] >= 1
    # strength 0 leaves the code exactly where it was
    items = ex2.memo[plan["steps"][1]["hash"]]
    assert torch.equal(items[0].wplus, items[0].root.wplus)
    assert not torch.equal(items[1].wplus, items[1].root.wplus)


def test_incremental_run_skips_done_steps_unless_asked_to_rerun(env, tmp_path) -> None:
    ex = open_executor(str(env), "cpu", lambda e: None)
    plan = edit_plan()
    first = ex.run(plan, "# r\n", tmp_path, tmp_path, write_manifest=False, incremental=True)
    assert len(first.timings) == 5
    (tmp_path / "out" / "grid.png").unlink()
    again = ex.run(plan, "# r\n", tmp_path, tmp_path, write_manifest=False, incremental=True)
    assert again.timings == [] and not (tmp_path / "out" / "grid.png").exists()
    grid_step = plan["steps"][3]
    third = ex.run(plan, "# r\n", tmp_path, tmp_path, write_manifest=False, incremental=True,
                   rerun={grid_step["hash"]})
    assert [t["id"] for t in third.timings] == [grid_step["id"]]
    assert (tmp_path / "out" / "grid.png").exists()


def test_the_front_ends_protocol_result_stats_explain_and_stop(env, tmp_path) -> None:
    """What the REPL and the notebook may ask (styleclip_dsl.executor_api): a step's items by hash,
    what the executor holds, what a plan would cost, and a stop that interrupts the running step."""
    from styleclip_runtime.execution.errors import Interrupted

    ex = open_executor(str(env), "cpu", lambda e: None)
    plan = edit_plan()

    def directions() -> list[str]:
        return [n.status for s in ex.explain(plan, tmp_path).steps for n in s.needs if n.kind == "direction"]

    assert directions() == ["compute"]
    ex.run(plan, "# r\n", tmp_path, tmp_path, write_manifest=False, incremental=True)
    items = ex.result(plan["steps"][1]["hash"])
    assert [it.name for it in items] == ["seed1", "seed2"] and items[0].labels["text"] == "curly hair"
    assert ex.result(plan["steps"][2]["hash"]) is None  # a save holds no items
    stats = ex.stats()
    assert (stats.memo_steps, stats.steps_run) == (2, 5) and stats.disk.entries >= 1
    assert directions() == ["cached"]  # explained on the same warm models and cache the run used
    slow = make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [5], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "optimize", "sweep": None, "edits": [{"text": "curly hair", "params": {
            "steps": 50, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "wplus", "beta": 0.0, "neutral": "a face"}}]},
    ])
    ex.events = lambda e: ex.stop() if e["event"] == "progress" else None  # Ctrl-C during the optimisation
    with pytest.raises(Interrupted):
        ex.run(slow, "# r\n", tmp_path, tmp_path, write_manifest=False, incremental=True)
    assert ex.result(slow["steps"][1]["hash"]) is None  # nothing half-finished is kept


def test_optimize_with_beta_moves_only_the_directions_channels(env, tmp_path) -> None:
    """``optimize space=s beta=B``: the offset is zero outside the channels that
    the global direction (``neutral`` -> the edit's text) keeps at B."""
    params = {"steps": 8, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "s", "beta": 0.1, "neutral": "a face"}
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [5], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "curly hair", "params": params}],
         "sweep": None},
        {"kind": "save", "input": "s2", "mode": "image", "path": "o/{name}.png"},
    ])
    ex, _ = run(env, plan, tmp_path)
    item = ex.memo[plan["steps"][1]["hash"]][0]
    direction, _ = ex.models.direction("curly hair", "a face", 0.1)
    kept = [d != 0 for d in direction.delta]
    assert 0 < sum(int(k.sum()) for k in kept) < sum(k.numel() for k in kept)
    assert all(torch.count_nonzero(o[~k]) == 0 for o, k in zip(item.s_offset, kept))
    assert sum(torch.count_nonzero(o[k]) for o, k in zip(item.s_offset, kept)) > 0
    manifest = json.loads((tmp_path / "o" / "run.json").read_text())
    step = next(s for s in manifest["steps"] if s["id"] == "s2")
    assert step["optimized_channels"] == sum(int(k.sum()) for k in kept)


def test_layers_confine_every_engine_to_its_levels(env, tmp_path) -> None:
    """``layers=``: the tiny generator has 8 W+ rows, coarse 0-3 and medium 4-7. An edit scoped to
    a level changes that level's rows (or the StyleSpace layers they feed) and leaves the others
    exactly as they were; the same edit on every level changes both."""
    opt = {"steps": 6, "lr": 0.1, "l2": 0.0, "id": 0.0, "space": "wplus", "beta": 0.0, "neutral": "a face"}
    edits = [
        ("global", {**GLOBAL, "layers": "coarse"}),
        ("mapper", {"strength": 2.0, "layers": "medium"}),
        ("optimize", {**opt, "layers": "coarse"}),
        ("optimize", {**opt, "space": "s", "layers": "medium"}),
        ("global", {**GLOBAL, "layers": "all"}),
    ]
    steps = [{"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [3], "truncation": 0.7}}]
    steps += [{"kind": "edit", "input": "s1", "engine": engine, "edits": [{"text": "smile", "params": params}],
               "sweep": None} for engine, params in edits]
    plan = make_plan(steps)
    ex, _ = run(env, plan, tmp_path)
    source = ex.memo[plan["steps"][0]["hash"]][0]
    results = [ex.memo[step["hash"]][0] for step in plan["steps"][1:]]
    layout = ex.models.generator.layout
    coarse_layer = [layer.w_index < 4 for layer in layout]

    def moved_layers(item) -> list[bool]:
        return [bool(torch.count_nonzero(o)) for o in item.s_offset]

    def moved_rows(item) -> list[bool]:
        return [not torch.equal(a, b) for a, b in zip(item.wplus, source.wplus)]

    global_coarse, mapper_medium, opt_coarse, opt_s_medium, global_all = results
    assert any(moved_layers(global_coarse)) and all(c for c, m in zip(coarse_layer, moved_layers(global_coarse)) if m)
    assert moved_rows(mapper_medium) == [False] * 4 + [True] * 4
    assert moved_rows(opt_coarse) == [True] * 4 + [False] * 4
    assert any(moved_layers(opt_s_medium)) and not any(
        m for c, m in zip(coarse_layer, moved_layers(opt_s_medium)) if c)
    assert any(m for c, m in zip(coarse_layer, moved_layers(global_all)) if not c)  # 'all' reaches medium too
    manifest = json.loads((tmp_path / "run.json").read_text())  # the S optimization counts what it may move
    assert manifest["steps"][4]["optimized_channels"] == sum(
        layer.width for layer, c in zip(layout, coarse_layer) if not c and not layer.is_torgb)


def test_a_photo_changed_on_disk_is_inverted_again_by_a_warm_executor(env, tmp_path) -> None:
    """A plan's hashes cover the paths, not the files: the REPL (incremental runs on one executor)
    must not keep serving the old photo's results once the file changes."""
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((40, 40, 3), 30, dtype=np.uint8)).save(photo)
    plan = make_plan([
        {"kind": "source", "op": "invert", "subject": "me", "params": {"paths": ["p.png"]}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "smile", "params": GLOBAL}],
         "sweep": None},
    ])
    ex = open_executor(str(env), "cpu", lambda e: None)
    ex.run(plan, "", tmp_path, tmp_path, incremental=True, write_manifest=False)
    first = ex.memo[plan["steps"][1]["hash"]][0].wplus.clone()
    again = ex.run(plan, "", tmp_path, tmp_path, incremental=True, write_manifest=False)
    assert again.timings == []  # unchanged: nothing runs
    Image.fromarray(np.full((40, 40, 3), 220, dtype=np.uint8)).save(photo)
    changed = ex.run(plan, "", tmp_path, tmp_path, incremental=True, write_manifest=False)
    assert [t["id"] for t in changed.timings] == ["s1", "s2"]
    assert changed.timings[0]["inversion_cache_misses"] == 1
    assert not torch.equal(ex.memo[plan["steps"][1]["hash"]][0].wplus, first)


def test_optimize_runs_in_chunks_that_shrink_when_memory_runs_out(env, tmp_path, monkeypatch) -> None:
    """An ``optimize`` step over many subjects: in chunks of the model set's ``optimize_batch``,
    halved when a chunk runs out of memory, with the same codes a single batch gives (each
    subject's loss and Adam state are its own), and each chunk cached as soon as it ends."""
    from styleclip_runtime.engines import optimization

    params = {"steps": 5, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "wplus", "beta": 0.0, "neutral": "a face",
              "views": 2, "smooth": 0.5}  # random draws too: each subject's own, whatever its batch
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [1, 2, 3, 4, 5], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "smile", "params": params}],
         "sweep": None},
    ])
    whole, _ = run(env, plan, tmp_path / "whole")  # 5 subjects < 16: one batch
    expected = [it.wplus for it in whole.memo[plan["steps"][1]["hash"]]]

    plain, sizes = optimization.optimize, []

    def small_memory(generator, clip, wplus_src, *args, **kwargs):
        sizes.append(wplus_src.shape[0])
        if wplus_src.shape[0] > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return plain(generator, clip, wplus_src, *args, **kwargs)

    monkeypatch.setattr(optimization.latent_optimization, "optimize", small_memory)
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "fresh-cache"))
    notices: list[str] = []
    ex = open_executor(str(env), "cpu", lambda e: notices.append(str(e)))
    ex.run(plan, "# recipe text\n", tmp_path, tmp_path / "chunked")
    assert sizes == [5, 2, 2, 1]  # all 5 at once fails; halved to 2, which fits: 2 + 2 + 1
    got = [it.wplus for it in ex.memo[plan["steps"][1]["hash"]]]
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, expected))
    assert ex.models.optimize_batch.size == 2 and any("out of memory" in n for n in notices)
    assert ex.models.cache.info().by_kind["optimization"][0] == 5


def test_a_set_whose_statistics_change_gets_new_directions_and_masked_optimizations(env, tmp_path) -> None:
    """The relevance table decides a direction's channels, so the cached direction (and a masked
    optimization) of a set whose statistics file changed under the same name and networks must not
    be served: it is computed again, from the new table; what does not use the table stays cached."""
    from styleclip_runtime.engines.global_directions import GlobalStats

    masked = {"steps": 4, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "s", "beta": 0.1, "neutral": "a face"}
    free = dict(masked, beta=0.0)
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [5], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "curly hair", "params": GLOBAL}],
         "sweep": None},
        {"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "curly hair", "params": masked}],
         "sweep": None},
        {"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "curly hair", "params": free}],
         "sweep": None},
        {"kind": "save", "input": "s2", "mode": "image", "path": "out/{name}.png"},
    ])
    first, _ = run(env, plan, tmp_path / "a")
    d_old, _ = first.models.direction("curly hair", "a face", 0.0)
    # the same set (same name, so the same cache) with another relevance table
    other = tmp_path / "set"
    shutil.copytree(env.parent, other)
    stats = GlobalStats.load(other / "stats.safetensors")
    GlobalStats(stats.mean, stats.std, stats.fs3.roll(7, dims=0), stats.meta).save(other / "stats.safetensors")
    second, _ = run(other / env.name, plan, tmp_path / "b")
    steps = {s["id"]: s for s in json.loads((tmp_path / "b" / "out" / "run.json").read_text())["steps"]}
    assert steps["s2"]["direction_cache_hits"] == 0
    assert steps["s3"]["optimization_cache_hits"] == 0 and steps["s4"]["optimization_cache_hits"] == 1
    d_new, _ = second.models.direction("curly hair", "a face", 0.0)
    assert any(not torch.equal(a, b) for a, b in zip(d_old.delta, d_new.delta))


def test_optimization_starts_at_the_chunk_the_free_device_memory_holds(env, tmp_path, monkeypatch) -> None:
    """Where the free device memory is known (CUDA), the first chunk is the size the memory estimate
    says fits, not ``optimize_batch`` to be halved after running out; unknown (the CPU), nothing
    changes."""
    from styleclip_runtime.engines import optimization
    from styleclip_runtime.execution.memory_estimate import backward_estimate
    from styleclip_runtime.models.modelset import ModelSet

    params = {"steps": 2, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "wplus", "beta": 0.0, "neutral": "a face"}
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "p", "params": {"seeds": [1, 2, 3, 4, 5], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "smile", "params": params}],
         "sweep": None},
    ])
    plain, sizes = optimization.optimize, []

    def recording(generator, clip, wplus_src, *args, **kwargs):
        sizes.append(wplus_src.shape[0])
        return plain(generator, clip, wplus_src, *args, **kwargs)

    monkeypatch.setattr(optimization.latent_optimization, "optimize", recording)
    per_image = backward_estimate(ModelSet.load(str(env)), 1).per_image
    notices: list[str] = []
    ex = open_executor(str(env), "cpu", lambda e: notices.append(str(e)))
    ex.models.free_device_memory = lambda: int(2.5 * per_image / 0.8)  # room for two images
    ex.run(plan, "# recipe text\n", tmp_path, tmp_path / "a")
    assert sizes == [2, 2, 1] and ex.models.optimize_batch.size == 2
    assert any("chunks of 2" in n for n in notices)
    sizes.clear()
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "fresh-cache"))
    cpu = open_executor(str(env), "cpu", lambda e: None)  # the CPU: free memory unknown
    assert cpu.models.free_device_memory() is None
    cpu.run(plan, "# recipe text\n", tmp_path, tmp_path / "b")
    assert sizes == [5]


def test_global_keep_moves_nothing_clip_reads_as_the_kept_texts(env, tmp_path) -> None:
    """``global 'X' keep='Y, Z'`` (conditional editing): the direction's channel weights, in
    relevance units (offset / alpha / std, every channel at beta 0), have no component along the
    relevance of a kept text, where the plain direction's do; the two are cached apart."""
    from styleclip_runtime.engines import global_directions as gd

    kept = ("glasses", "a smile")
    plan = make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [3], "truncation": 0.7}},
        {"kind": "edit", "input": "s1", "engine": "global", "edits": [{"text": "curly hair", "params": GLOBAL}],
         "sweep": None},
        {"kind": "edit", "input": "s1", "engine": "global",
         "edits": [{"text": "curly hair", "params": {**GLOBAL, "keep": " glasses,a smile "}}], "sweep": None},
        {"kind": "save", "input": "s3", "mode": "image", "path": "out/{name}.png"},
    ])
    ex, _ = run(env, plan, tmp_path)
    models = ex.models
    stats = models.global_stats()
    layout = models.generator.layout

    def weights(step_index: int) -> torch.Tensor:
        item = ex.memo[plan["steps"][step_index]["hash"]][0]
        return torch.cat([item.s_offset[la.index] / (GLOBAL["alpha"] * stats.std[la.index])
                          for la in layout if not la.is_torgb])

    with torch.no_grad():
        rel_kept = [gd.relevance(stats.fs3, gd.text_direction(models.clip, k, "a face")) for k in kept]
    plain, conditional = weights(1), weights(2)
    for r in rel_kept:
        assert abs(float(conditional @ r)) < 1e-3 * float(conditional.norm() * r.norm())
        assert abs(float(plain @ r)) > 1e-2 * float(plain.norm() * r.norm())
    assert float(conditional @ plain) > 0  # still the edit's own direction, less what is kept
    manifest = json.loads((tmp_path / "out" / "run.json").read_text())
    assert [s.get("direction_cache_hits") for s in manifest["steps"][1:3]] == [0, 0]


def test_optimize_keep_aims_clip_away_from_the_kept_texts_and_masks_with_the_conditional_direction(
        env, tmp_path, monkeypatch) -> None:
    """``optimize 'X' space=s beta=B keep='Y, Z'``: CLIP's target has no component along the kept
    texts' directions (so the loss gains nothing from moving what CLIP reads as them), the offset
    stays on the channels of the conditional direction (``global 'X' beta=B keep='Y, Z'``), the
    result is cached apart from the plain optimization's, and ``keep=''`` is the plain one."""
    from styleclip_runtime.engines import global_directions as gd
    from styleclip_runtime.engines import optimization

    kept = ("glasses", "a smile")
    base = {"steps": 6, "lr": 0.1, "l2": 0.008, "id": 0.0, "space": "s", "beta": 0.1, "neutral": "a face"}
    keep = {**base, "keep": "glasses, a smile"}
    steps = [{"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [5], "truncation": 0.7}}]
    steps += [{"kind": "edit", "input": "s1", "engine": "optimize", "edits": [{"text": "curly hair", "params": p}],
               "sweep": None} for p in (base, keep)]
    plan = make_plan(steps + [{"kind": "save", "input": "s3", "mode": "image", "path": "o/{name}.png"}])
    plain_optimize, targets = optimization.optimize, []

    def recording(generator, clip, wplus_src, text_emb, **kwargs):
        targets.append(text_emb.detach().clone())
        return plain_optimize(generator, clip, wplus_src, text_emb, **kwargs)

    monkeypatch.setattr(optimization.latent_optimization, "optimize", recording)
    ex, _ = run(env, plan, tmp_path)
    models = ex.models
    with torch.no_grad():
        directions = [gd.text_direction(models.clip, k, "a face") for k in kept]
    plain_target, keep_target = targets
    assert torch.allclose(plain_target, models.text_embedding("curly hair"))
    assert abs(float(keep_target.norm()) - 1.0) < 1e-5
    for d in directions:
        assert abs(float(keep_target @ d)) < 1e-5
        assert abs(float(plain_target @ d)) > 1e-3
    assert float(keep_target @ plain_target) > 0.5  # still the edit's text, less what is kept

    conditional, _ = models.direction("curly hair", "a face", 0.1, kept)
    plain_dir, _ = models.direction("curly hair", "a face", 0.1)
    mask, plain_mask = conditional.channel_mask(), plain_dir.channel_mask()
    assert any(not torch.equal(a, b) for a, b in zip(mask, plain_mask))  # keep changes the channels
    item = ex.memo[plan["steps"][2]["hash"]][0]
    assert all(torch.count_nonzero(o[m == 0]) == 0 for o, m in zip(item.s_offset, mask))
    manifest = json.loads((tmp_path / "o" / "run.json").read_text())
    by_id = {s["id"]: s for s in manifest["steps"]}
    assert by_id["s3"]["optimized_channels"] == conditional.n_channels
    assert [by_id[s]["optimization_cache_hits"] for s in ("s2", "s3")] == [0, 0]

    # keep='' is the plain optimization, filed under the plain optimization's key (an empty keep enters
    # no key: EngineSpec.key_params): another executor finds it in the result cache
    again = make_plan(steps[:1] + [{**steps[1], "edits": [{"text": "curly hair", "params": {**base, "keep": ""}}]}])
    run(env, again, tmp_path / "again", tmp_path)
    manifest = json.loads((tmp_path / "again" / "run.json").read_text())
    assert manifest["steps"][1]["optimization_cache_hits"] == 1


# `--update-golden` never writes outside the recipe's folder: a filled golden path that resolves outside
# it (a symbolic link made after `check`) is refused before anything is written.
def golden_plan(path: str) -> dict:
    return make_plan([
        {"kind": "source", "op": "generate", "subject": "samples", "params": {"seeds": [1], "truncation": 0.7}},
        {"kind": "expect", "input": "s1", "metric": "golden", "args": [path], "kwargs": {}, "op": "<", "value": 0.5},
    ])


def test_update_golden_through_a_link_out_of_the_folder_is_refused(env, tmp_path) -> None:
    recipe_dir, elsewhere = tmp_path / "recipes", tmp_path / "elsewhere"
    recipe_dir.mkdir()
    elsewhere.mkdir()
    (recipe_dir / "g").symlink_to(elsewhere, target_is_directory=True)
    ex = open_executor(str(env), "cpu")
    with pytest.raises(StepError, match="outside the recipe's folder") as refused:
        ex.run(golden_plan("g/{name}.png"), "# r\n", recipe_dir, tmp_path / "out", update_golden=True)
    assert refused.value.step.id == "s2" and list(elsewhere.iterdir()) == []
    report = ex.run(golden_plan("inside/{name}.png"), "# r\n", recipe_dir, tmp_path / "out", update_golden=True)
    assert (recipe_dir / "inside" / "seed1.png").is_file() and report.expectations[0].passed
