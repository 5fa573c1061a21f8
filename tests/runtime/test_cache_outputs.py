"""The output cache (runtime/cache/output_cache.py): a run whose outputs are all cached is served
without importing torch, byte for byte; anything its outputs depend on changes the key."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from styleclip_dsl.api import compile_recipe
from styleclip_runtime.cache import output_cache as cache_outputs
from styleclip_runtime.modelsets import registry

from .tiny_modelset import write_tiny_modelset

RECIPE = """\
seed 3
invert photos/*.png as people
apply 'curly hair' via global alpha=3 beta=0.05
save out/{name}.png
save grid out/grid.png
expect distance() >= 0
"""

# Runs the CLI in this process and reports whether torch was imported (the check the issue asks for).
CLI_THEN_REPORT = """\
import sys
from styleclip_dsl.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
print("TORCH_IMPORTED" if "torch" in sys.modules else "TORCH_NOT_IMPORTED")
sys.exit(code or 0)
"""


def _photo(path: Path, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)


def _cli(args: list[str], cwd: Path, cache: Path, report_torch: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "STYLECLIP_RESULTS_CACHE"}
    env.update(STYLECLIP_CACHE=str(cache), OMP_NUM_THREADS="1")
    head = ["-c", CLI_THEN_REPORT] if report_torch else ["-m", "styleclip_dsl.cli"]
    return subprocess.run([sys.executable, *head, *args], cwd=cwd, env=env, text=True, capture_output=True,
                          timeout=600)


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> dict:
    """One computed run of RECIPE on the tiny set, in a subprocess: its folder, cache and outputs."""
    root = tmp_path_factory.mktemp("outputs-cache")
    yaml_path = write_tiny_modelset(root / "models")
    for i in range(2):
        _photo(root / "photos" / f"p{i}.png", i)
    (root / "r.sc").write_text(RECIPE)
    first = _cli(["run", "r.sc", "--models", str(yaml_path), "--out", "a", "-q"], root, root / "cache")
    assert first.returncode == 0, first.stderr
    outputs = sorted(p.relative_to(root / "a") for p in (root / "a").rglob("*.png"))
    assert [str(p) for p in outputs] == ["out/grid.png", "out/p0.png", "out/p1.png"]
    return {"root": root, "yaml": yaml_path, "cache": root / "cache", "outputs": outputs}


def test_a_cached_run_is_served_without_torch_with_the_same_bytes(computed) -> None:
    root = computed["root"]
    second = _cli(["run", "r.sc", "--models", str(computed["yaml"]), "--out", "b", "-q"], root, computed["cache"],
                  report_torch=True)
    assert second.returncode == 0, second.stderr
    assert "TORCH_NOT_IMPORTED" in second.stdout, second.stdout
    for rel in computed["outputs"]:
        assert (root / "b" / rel).read_bytes() == (root / "a" / rel).read_bytes(), rel
    manifest = json.loads((root / "b" / "out" / "run.json").read_text())
    assert {s["cache"] for s in manifest["steps"]} == {"outputs"}
    assert manifest["device"]["name"] == "none" and manifest["cache"]["by_kind"] == {"outputs": {"hits": 1}}
    computed_manifest = json.loads((root / "a" / "out" / "run.json").read_text())
    assert manifest["expectations"] == computed_manifest["expectations"] and manifest["expectations"]
    assert manifest["versions"]["torch"] == computed_manifest["versions"]["torch"]
    assert manifest["photos"] == computed_manifest["photos"]


def test_a_changed_input_is_computed_again(computed, tmp_path) -> None:
    """Same recipe and paths, one photo's bytes changed: the run must compute (torch) and its image differ."""
    root = tmp_path / "copy"
    for i in range(2):
        _photo(root / "photos" / f"p{i}.png", i + (5 if i == 1 else 0))
    (root / "r.sc").write_text(RECIPE)
    run = _cli(["run", "r.sc", "--models", str(computed["yaml"]), "--out", "a", "-q"], root, computed["cache"],
               report_torch=True)
    assert run.returncode == 0, run.stderr
    assert "TORCH_IMPORTED" in run.stdout
    assert (root / "a/out/p1.png").read_bytes() != (computed["root"] / "a/out/p1.png").read_bytes()


def _plan(text: str) -> dict:
    plan, diags = compile_recipe(text, "r.sc", {})
    assert plan is not None, diags
    return json.loads(plan.to_json())


def test_the_key_covers_inputs_and_the_recipe_text(computed, tmp_path) -> None:
    spec = registry.read_spec(computed["yaml"])
    fps = cache_outputs.spec_fingerprints(spec)
    for i in range(2):
        _photo(tmp_path / "photos" / f"p{i}.png", i)
    key = cache_outputs.run_key(_plan(RECIPE), RECIPE, tmp_path, spec, fps)
    assert key == cache_outputs.run_key(_plan(RECIPE), RECIPE, tmp_path, spec, fps)
    commented = RECIPE + "# a comment\n"  # the PNGs carry the recipe text
    assert cache_outputs.run_key(_plan(commented), commented, tmp_path, spec, fps) != key
    _photo(tmp_path / "photos" / "p1.png", 9)
    assert cache_outputs.run_key(_plan(RECIPE), RECIPE, tmp_path, spec, fps) != key
    (tmp_path / "photos" / "p1.png").unlink()
    (tmp_path / "photos" / "p0.png").unlink()
    assert cache_outputs.run_key(_plan(RECIPE), RECIPE, tmp_path, spec, fps) is None  # no input: not replayed
    golden = RECIPE.replace("expect distance() >= 0", "expect golden('g/{name}.png') < 0.01")
    assert not cache_outputs.replayable(_plan(golden))


def test_fingerprints_without_torch_match_the_model_sets(computed) -> None:
    from styleclip_runtime.models.modelset import ModelSet

    for ref in (computed["yaml"], "toon"):
        spec = registry.find_spec(ref)
        assert cache_outputs.spec_fingerprints(spec) == ModelSet.load(ref).fingerprints()


def test_a_changed_pinned_file_never_lends_its_pinned_digest_to_the_key(computed, tmp_path, monkeypatch) -> None:
    """A generator whose bytes changed under the YAML's sha256: replay's fingerprint is the bytes'
    digest, as the executor's is, so the recorded run is not served for the damaged file."""
    import shutil

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "set"
    shutil.copytree(computed["yaml"].parent, folder)
    data = yaml.safe_load((folder / computed["yaml"].name).read_text())
    pinned = registry.sha256_file(folder / "generator.pt")
    data["generator"]["file"]["sha256"] = pinned
    (folder / "pinned.yaml").write_text(yaml.safe_dump(data))
    spec = registry.read_spec(folder / "pinned.yaml")
    assert cache_outputs.spec_fingerprints(spec)["generator"] == pinned
    with open(folder / "generator.pt", "ab") as fh:
        fh.write(b"\0")
    assert cache_outputs.spec_fingerprints(spec)["generator"] == registry.sha256_file(folder / "generator.pt") != pinned


def test_a_replay_never_replaces_a_file_styleclip_did_not_write(computed, monkeypatch) -> None:
    root = computed["root"]
    monkeypatch.setenv("STYLECLIP_CACHE", str(computed["cache"]))
    monkeypatch.delenv("STYLECLIP_RESULTS_CACHE", raising=False)
    foreign = root / "c" / "out" / "p0.png"
    foreign.parent.mkdir(parents=True)
    foreign.write_bytes(b"someone else's file")
    got = cache_outputs.replay(_plan(RECIPE), RECIPE, root, root / "c", str(computed["yaml"])).report
    assert got is None  # the computed run refuses it and says why
    assert foreign.read_bytes() == b"someone else's file" and not (root / "c/out/p1.png").exists()
    got = cache_outputs.replay(_plan(RECIPE), RECIPE, root, root / "c", str(computed["yaml"]),
                               overwrite=True).report
    assert got is not None and foreign.read_bytes() == (root / "a/out/p0.png").read_bytes()
    assert [e.passed for e in got.expectations] == [True]


def test_the_record_round_trips_and_rejects_truncation() -> None:
    record = cache_outputs.RunRecord([("s3", "out/a.png", b"\x89PNG a"), ("s4", "out/b.gif", b"")],
                                     [{"step": "s5", "passed": True}])
    again = cache_outputs.RunRecord.from_bytes(record.to_bytes())
    assert again == record
    with pytest.raises(ValueError):
        cache_outputs.RunRecord.from_bytes(record.to_bytes()[:-2])


def test_a_record_that_does_not_decode_is_dropped_and_the_run_computes(computed, tmp_path, monkeypatch) -> None:
    """An entry whose checksum holds but whose record is garbage goes through the one read path
    (Cache.get): it is discarded, so the next run computes and files a good one instead of failing
    on it for ever."""
    import shutil

    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.build_executor import results_cache_dir

    shutil.copytree(computed["cache"], tmp_path / "cache")
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLECLIP_RESULTS_CACHE", raising=False)
    root, spec = computed["root"], registry.find_spec(str(computed["yaml"]))
    key = cache_outputs.run_key(_plan(RECIPE), RECIPE, root, spec, cache_outputs.spec_fingerprints(spec))
    cache = Cache(results_cache_dir(spec))
    assert cache.get_bytes(cache_outputs.KIND, key) is not None  # the computed run filed it
    cache.put_bytes(cache_outputs.KIND, key, b"\x00\x00\x00\x05{bad}")  # intact on disk, not a record
    warnings: list[dict] = []
    got = cache_outputs.replay(_plan(RECIPE), RECIPE, root, tmp_path / "out", str(computed["yaml"]),
                               events=warnings.append).report
    assert got is None and not (tmp_path / "out").exists()
    assert cache.get_bytes(cache_outputs.KIND, key, count_miss=False) is None  # dropped, not kept
    assert any(w.get("event") == "warning" for w in warnings)


def test_a_run_that_misses_the_cache_digests_each_input_once(computed, tmp_path, monkeypatch) -> None:
    """The replay attempt works out the output cache's key (hashing every input file); on a miss the
    computed run files its outputs under that same key instead of hashing every input again."""
    from rich.console import Console

    from styleclip_dsl.commands.run import execute

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))  # empty: the replay misses
    monkeypatch.delenv("STYLECLIP_RESULTS_CACHE", raising=False)
    for i in range(2):
        _photo(tmp_path / "photos" / f"p{i}.png", i)
    photos = {str((tmp_path / "photos" / f"p{i}.png").resolve()) for i in range(2)}
    digested: list[str] = []
    real = registry.sha256_file

    def counting(path, *args, **kwargs):
        if str(Path(path).resolve()) in photos:
            digested.append(str(Path(path).resolve()))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(registry, "sha256_file", counting)
    quiet = Console(file=open(os.devnull, "w"))
    code, report = execute(RECIPE, "r.sc", tmp_path, sets={}, out=tmp_path / "a", device="cpu",
                           models=str(computed["yaml"]), dry_run=False, quiet=True, as_json=False, no_cache=False,
                           update_golden=False, console=quiet, err=quiet)
    assert code == 0 and report is not None
    assert sorted(digested) == sorted(photos)  # one digest per input file, not two
    again = cache_outputs.replay(_plan(RECIPE), RECIPE, tmp_path, tmp_path / "b", str(computed["yaml"]))
    assert again.report is not None  # filed under the key the next replay looks up
