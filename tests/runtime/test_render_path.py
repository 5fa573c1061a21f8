"""The synthesis path of a run's results (runtime/execution/render_path.py, #21): pinned by
$STYLECLIP_SYNTHESIS_PATH or measured once per machine and generator; recorded in run.json; part of
the output cache's key; never used for what is derived and cached (statistics, mappers)."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styleclip_dsl.api import compile_recipe
from styleclip_runtime.cache import output_cache
from styleclip_runtime.execution import render_path
from styleclip_runtime.execution.build_executor import open_executor
from styleclip_runtime.execution.expect_metrics import psnr
from styleclip_runtime.models import stylegan2, synthesis_fused, synthesis_path

from .tiny_modelset import write_tiny_modelset

RECIPE = """\
generate seeds=1..2 as people
apply 'curly hair' via global alpha=3 beta=0.05
save out/{name}.png
save grid out/grid.png
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_modelset(tmp_path_factory.mktemp("models"))


def _plan() -> dict:
    plan, diags = compile_recipe(RECIPE, "r.sc", {})
    assert plan is not None, diags
    return json.loads(plan.to_json())


def _run(yaml: Path, out: Path, events=None):
    executor = open_executor(str(yaml), "cpu", events or (lambda e: None))
    report = executor.run(_plan(), RECIPE, out, out, record_outputs=True)
    return executor, report


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0


def test_the_setting_is_checked_and_the_paths_agree_with_the_generator(monkeypatch) -> None:
    assert render_path.PATHS == stylegan2.SYNTHESIS_PATHS
    monkeypatch.delenv(render_path.ENV)
    assert render_path.setting() == "measure"  # switched on by default
    monkeypatch.setenv(render_path.ENV, "turbo")
    with pytest.raises(ValueError, match="STYLECLIP_SYNTHESIS_PATH='turbo'"):
        render_path.setting()
    with pytest.raises(ValueError, match="STYLECLIP_SYNTHESIS_PATH"):
        open_executor("toon", "cpu")  # before anything loads


def test_a_bf16_run_records_its_path_stays_close_and_never_shares_outputs_with_fast(tiny, tmp_path,
                                                                                     monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    fast_dir, bf16_dir = tmp_path / "fast", tmp_path / "bf16"
    _, fast = _run(tiny, fast_dir)  # tests/conftest.py pins fast
    assert json.loads(fast.manifest.read_text())["synthesis"] == {"path": "fast", "chosen": "pinned", "key": None}

    monkeypatch.setenv(render_path.ENV, "fused-bf16")
    # fast's outputs are cached, but a bf16 run must not be served them
    assert output_cache.replay(_plan(), RECIPE, bf16_dir, bf16_dir, str(tiny)).report is None
    _, bf16 = _run(tiny, bf16_dir)
    manifest = json.loads(bf16.manifest.read_text())
    assert manifest["synthesis"] == {"path": "fused-bf16", "chosen": "pinned", "key": None}
    names = sorted(p.relative_to(bf16_dir).as_posix() for p in bf16.outputs)
    assert names == ["out/grid.png", "out/seed1.png", "out/seed2.png"]
    for name in names:
        a, b = _pixels(fast_dir / name), _pixels(bf16_dir / name)
        assert a.shape == b.shape and not np.array_equal(a, b)  # the bf16 path really rendered them
        assert float(psnr(*(torch.from_numpy(x).permute(2, 0, 1)[None] for x in (b, a)))) >= 35

    for path, source in (("fused-bf16", bf16_dir), ("fast", fast_dir)):  # each path is served its own bytes
        monkeypatch.setenv(render_path.ENV, path)
        out = tmp_path / f"served-{path}"
        served = output_cache.replay(_plan(), RECIPE, out, out, str(tiny)).report
        assert served is not None
        for name in names:
            assert (out / name).read_bytes() == (source / name).read_bytes(), (path, name)
        assert json.loads(served.manifest.read_text())["synthesis"]["path"] == path


def test_derived_results_stay_on_the_generator_s_own_path(tiny, tmp_path, monkeypatch) -> None:
    """Statistics, directions and mappers are cached by keys without the path: they must not be
    rendered on it. The fused path runs only under state.render, never from an engine (mapper training
    and optimization back-propagate, which the fused path never serves: test_synthesis_path.py)."""
    from styleclip_runtime.execution.warm import compute_global_stats

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(render_path.ENV, "fused-bf16")
    callers: list[str] = []
    real = synthesis_fused.fused_synthesize

    def spy(*args, **kwargs):
        callers.extend(Path(f.filename).as_posix() for f in inspect.stack()[1:6])
        return real(*args, **kwargs)

    monkeypatch.setattr(synthesis_fused, "fused_synthesize", spy)
    executor, _ = _run(tiny, tmp_path / "out")
    assert any(c.endswith("execution/state.py") for c in callers)  # the results went through the fused path
    callers.clear()
    models = executor.models
    assert models.generator.synthesis_path == "fast" and models.synthesis_path == "fused-bf16"
    compute_global_stats(models.generator, models.clip, 64, 1, 5.0)  # what a set without stats computes
    assert callers == []  # its renders (no gradient, like the results') stayed on the generator's path


def test_measure_chooses_once_per_machine_and_generator_and_replay_knows_it(tiny, tmp_path, monkeypatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("STYLECLIP_CACHE", str(cache))
    monkeypatch.setenv(render_path.ENV, "measure")
    monkeypatch.setattr(render_path, "MIN_MEASURED_SIZE", 0)  # the tiny generator stands in for a large one
    digest = output_cache.spec_fingerprints(output_cache.registry.read_spec(tiny))["generator"]
    assert render_path.resolve(cache, digest) is None  # nothing stored: a replay cannot know the path
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.warm import WarmModels
    from styleclip_runtime.models.modelset import ModelSet

    on_gpu = WarmModels(ModelSet.load(str(tiny)), Cache(tmp_path / "r"), "meta", synthesis_setting="measure")
    assert on_gpu.render_path == render_path.RenderPath("fast", "device", render_path.choice_key(digest))
    assert render_path.resolve(cache, digest).path == "fast"  # what a replay on this machine looks up
    notices: list[str] = []
    executor, report = _run(tiny, tmp_path / "a", lambda e: notices.append(e.get("message", "")))
    chosen = executor.models.render_path  # a CPU measures even so: "fast" was not measured
    assert chosen.chosen == "measured" and chosen.path in render_path.PATHS
    assert any("fastest synthesis path" in n for n in notices)
    stored = json.loads((cache / render_path.CACHE_FILE).read_text())[chosen.key]
    assert stored["path"] == chosen.path and set(stored["seconds"]) == set(render_path.PATHS)
    assert json.loads(report.manifest.read_text())["synthesis"] == chosen.record()
    # another process reads it back without measuring, and so does the torch-free replay
    monkeypatch.setattr(synthesis_path, "measure_paths", lambda *a, **k: pytest.fail("measured again"))
    again, _ = _run(tiny, tmp_path / "b")
    assert again.models.render_path == render_path.RenderPath(chosen.path, "stored", chosen.key)
    assert render_path.resolve(cache, digest) == again.models.render_path
    served = output_cache.replay(_plan(), RECIPE, tmp_path / "c", tmp_path / "c", str(tiny)).report
    assert served is not None and json.loads(served.manifest.read_text())["synthesis"]["path"] == chosen.path


def test_a_small_generator_renders_on_fast_without_measuring_and_replay_knows_it(tiny, tmp_path,
                                                                                  monkeypatch) -> None:
    """Below MIN_MEASURED_SIZE (toon's 64 px) measuring would cost more than any path saves."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("STYLECLIP_CACHE", str(cache))
    monkeypatch.setenv(render_path.ENV, "measure")
    monkeypatch.setattr(synthesis_path, "measure_paths", lambda *a, **k: pytest.fail("a small generator measured"))
    digest = output_cache.spec_fingerprints(output_cache.registry.read_spec(tiny))["generator"]
    executor, report = _run(tiny, tmp_path / "a")
    assert executor.models.generator.config.size < render_path.MIN_MEASURED_SIZE
    assert executor.models.render_path == render_path.RenderPath("fast", "small", render_path.choice_key(digest))
    assert json.loads(report.manifest.read_text())["synthesis"]["chosen"] == "small"
    assert render_path.resolve(cache, digest).path == "fast"  # a replay on this machine finds the entry


def test_a_ray_worker_renders_on_the_path_the_driver_pins(tiny, tmp_path, monkeypatch) -> None:
    """The driver puts its path in the workers' environment (driver._start_actors); a worker's images
    are then the bytes a local run on that path renders. No Ray needed."""
    import torch

    from styleclip_runtime.cluster.batches import split_plan
    from styleclip_runtime.cluster.worker import BatchWorker
    from styleclip_runtime.execution.state import render

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(render_path.ENV, "measure")  # the worker's own setting is overridden by the driver's
    monkeypatch.setattr(synthesis_path, "measure_paths", lambda *a, **k: pytest.fail("a worker measured"))
    worker = BatchWorker("w0", str(tiny), "cpu", False, env={render_path.ENV: "fused-bf16"})
    batch = split_plan(_plan(), tmp_path)[0]
    result = worker.run_batch(batch, RECIPE, str(tmp_path))
    assert result.error is None and worker.models.synthesis_path == "fused-bf16"
    sid = batch.rendered[0]
    items = result.items[sid]
    expected = render(worker.models.generator, items, "cpu", path="fused-bf16")
    assert torch.equal(result.images[sid], expected)
    assert not torch.equal(result.images[sid], render(worker.models.generator, items, "cpu"))
