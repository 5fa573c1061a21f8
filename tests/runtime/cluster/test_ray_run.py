"""A recipe on a local Ray cluster (2 CPUs) against the same recipe run locally: the same output
bytes and run.json, with a worker killed by ``ray.kill`` mid-run. 24 toon subjects here (batches
of 16 and 8, one per worker) plus 4 inverted photos; bench/bench_cluster.py runs the issue's 64."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from styleclip_dsl.api import compile_recipe  # noqa: E402
from styleclip_dsl.model_names import ModelNames  # noqa: E402
from styleclip_dsl.plan import EditStep, SourceStep  # noqa: E402
from styleclip_runtime.cluster.driver import ClusterOptions, ClusterRun  # noqa: E402
from styleclip_runtime.execution.executor import Executor  # noqa: E402
from styleclip_runtime.execution.build_executor import open_executor  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[3] / "recipes" / "photos"
RECIPE = """use toon
seed 4
generate seeds=1..24 as crowd
global 'smile' alpha=3
then mapper 'beard' strength=2
save out/{name}.png
save grid out/crowd.png
invert photos/*.png as friends
global 'glasses' alpha=0..3 count 2
save grid out/friends.png
save aligned out/{name}_crop.png
"""
# what differs between any two runs of one recipe, local or not
VOLATILE = ("seconds", "cache", "outputs", "steps", "device")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture()
def recipe(tmp_path) -> tuple[dict, Path]:
    (tmp_path / "photos").mkdir()
    for p in sorted(PHOTOS.glob("*.png")):
        shutil.copy(p, tmp_path / "photos" / p.name)
    plan, diags = compile_recipe(RECIPE, "crowd.sc", {}, names=ModelNames.discover())
    assert plan is not None, diags
    return json.loads(plan.to_json()), tmp_path


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_on_two_workers_with_one_killed_writes_what_a_local_run_writes(cluster, recipe, monkeypatch) -> None:
    plan, base = recipe
    monkeypatch.setenv("STYLECLIP_CACHE", str(base / "cache-local"))
    local = open_executor("toon", "cpu").run(plan, RECIPE, base, base / "local")

    monkeypatch.setenv("STYLECLIP_CACHE", str(base / "cache-ray"))  # cold too: the workers compute everything
    # the workers' items are what the driver writes: it computes no source or edit step itself (the
    # actors are other processes, this patch is the driver's alone)
    local_step = Executor._run_step

    def no_model_work_here(self, step, *args, **kwargs):
        assert not isinstance(step, (SourceStep, EditStep)), f"the driver ran {step.id} itself"
        return local_step(self, step, *args, **kwargs)

    monkeypatch.setattr(Executor, "_run_step", no_model_work_here)
    events: list[dict] = []
    run = ClusterRun(ClusterOptions(workers=2))

    def sink(event: dict) -> None:
        events.append(event)
        if event["event"] == "batch_start" and event["batch"] == 1:  # mid-run: batch 0 is running too
            time.sleep(0.1)  # batch 1 is in flight (a batch of 8 toon seeds takes about half a second)
            ray.kill(run.actors[event["worker"]], no_restart=False)  # Ray restarts it and retries the batch

    report = run.run(open_executor("toon", "cpu", sink), plan, RECIPE, base, base / "ray",
                     modelset="toon", device="cpu")

    got, want = files(base / "ray"), files(base / "local")
    assert len(want) == 24 + 1 + 1 + 4 + 1  # images, two grids, crops, run.json
    assert sorted(got) == sorted(want)
    assert [k for k in want if k.endswith(".png") and got[k] != want[k]] == []  # pixels and metadata
    ours, theirs = json.loads(got["out/run.json"]), json.loads(want["out/run.json"])
    assert {k: v for k, v in ours.items() if k not in VOLATILE} == \
        {k: v for k, v in theirs.items() if k not in VOLATILE}
    assert [(s["id"], s.get("outputs")) for s in ours["steps"]] == \
        [(s["id"], [o.replace("/local/", "/ray/") for o in s["outputs"]] if "outputs" in s else None)
         for s in theirs["steps"]]
    assert len(report.outputs) == len(local.outputs)

    ends = [e for e in events if e["event"] == "batch_end"]
    assert sorted(e["batch"] for e in ends) == [0, 1, 2]  # 16 and 8 seeds, 4 photos: each once
    killed = [e for e in ends if e["batch"] == 1]
    assert killed[0]["restarted"], "the killed worker's batch ran again on its restarted actor"
    assert all(not e["restarted"] for e in ends if e["worker"] != killed[0]["worker"])
    assert {e["worker"] for e in ends} <= {"w0", "w1"} and ends[-1]["done"] == ends[-1]["total"] == 28


def test_cli_ray_events_carry_worker_ids_and_a_second_run_is_served_without_ray(cluster, recipe, monkeypatch) -> None:
    from typer.testing import CliRunner

    from styleclip_dsl.cli import app

    _, base = recipe
    monkeypatch.setenv("STYLECLIP_CACHE", str(base / "cache-cli"))
    monkeypatch.chdir(base)
    text = "use toon\ngenerate seeds=1..3 as few\nglobal 'smile' alpha=3\nsave out/{name}.png\n"
    (base / "few.sc").write_text(text)
    first = CliRunner().invoke(app, ["run", "few.sc", "--ray", "local", "--json", "--out", "a"])
    assert first.exit_code == 0, first.output
    events = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    batches = [e for e in events if e["event"] in ("batch_start", "batch_end")]
    assert batches and all(e["worker"] == "w0" for e in batches)  # 3 subjects: one batch, one worker
    assert [e["event"] for e in events if e["event"].startswith("cluster")] == ["cluster_start", "cluster_end"]
    assert sorted(p.name for p in (base / "a" / "out").iterdir()) == ["run.json", "seed1.png", "seed2.png",
                                                                       "seed3.png"]
    # the output cache (#21) knows the run now: the same recipe with --ray is replayed, no cluster needed
    again = CliRunner().invoke(app, ["run", "few.sc", "--ray", "local", "--json", "--out", "b"])
    assert again.exit_code == 0, again.output
    kinds = [json.loads(line)["event"] for line in again.stdout.splitlines() if line.startswith("{")]
    assert "cluster_start" not in kinds and "run_end" in kinds
    assert (base / "b" / "out" / "seed2.png").read_bytes() == (base / "a" / "out" / "seed2.png").read_bytes()


def test_a_recipe_error_in_a_batch_comes_back_with_its_step(recipe, monkeypatch) -> None:
    """The worker returns a StepError as data (its step and hint would not survive pickling as an
    exception); the driver raises it again, so the CLI shows the recipe line. No Ray needed."""
    from styleclip_runtime.cluster.batches import split_plan
    from styleclip_runtime.cluster.worker import BatchWorker

    _, base = recipe
    monkeypatch.setenv("STYLECLIP_CACHE", str(base / "cache-err"))
    text = "use toon\ngenerate seed=1\nsave out/a.png\nload nothere.pt as gone\nsave out/{name}.png\n"
    plan, _ = compile_recipe(text, "err.sc", {}, names=ModelNames.discover())
    batches = split_plan(json.loads(plan.to_json()), base)
    worker = BatchWorker("w0", "toon", "cpu", False)
    assert worker.run_batch(batches[0], text, str(base)).error is None
    failed = worker.run_batch(batches[1], text, str(base))
    assert failed.error["step"]["span"]["line"] == 4 and "nothere.pt" in failed.error["message"]
    assert failed.items == {}


def test_styleclip_test_ray_runs_recipes_as_tasks_into_one_junit_report(cluster, tmp_path, monkeypatch) -> None:
    import xml.etree.ElementTree as ET

    from typer.testing import CliRunner

    from styleclip_dsl.cli import app

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "holds.sc").write_text("use toon\ngenerate seed=1\nglobal 'smile' alpha=3\n"
                                                 "save out/h.png\nexpect distance() < 5\n")
    (tmp_path / "suite" / "fails.sc").write_text("use toon\ngenerate seed=2\nglobal 'smile' alpha=3\n"
                                                 "save out/f.png\nexpect distance() > 5\n")
    result = CliRunner().invoke(app, ["test", "suite", "--ray", "local", "--junit", "report.xml", "--out", "o"])
    assert result.exit_code == 1, result.output  # the most severe outcome: an expectation failed
    cases = {c.get("classname"): c for c in ET.parse(tmp_path / "report.xml").iter("testcase")}  # one per expect
    assert sorted(cases) == ["suite/fails.sc", "suite/holds.sc"], list(cases)
    assert cases["suite/fails.sc"].find("failure") is not None and cases["suite/holds.sc"].find("failure") is None
    assert (tmp_path / "o" / "out" / "h.png").is_file() and (tmp_path / "o" / "out" / "f.png").is_file()
