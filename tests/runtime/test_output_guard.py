"""Where outputs may go (issue #20 item 3): inside --out, never over an input or the recipe,
never over a foreign file without --overwrite, and a second write of one path gets a number."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from styleclip_runtime.execution.errors import StepError
from styleclip_runtime.io.latents import LatentBatch, save_latents
from styleclip_runtime.io.outputs import OutputGuard, OutputRefused, encode_png, written_by_styleclip
from styleclip_runtime.execution.build_executor import open_executor

from .test_executor import make_plan

PIXELS = np.zeros((4, 4, 3), np.uint8)


def test_guard_refuses_paths_that_leave_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "escape").symlink_to(tmp_path)
    guard = OutputGuard(out)
    for bad in (out / "escape" / "x.png", out / ".." / "x.png", Path("/etc/x.png")):
        with pytest.raises(OutputRefused):
            guard.claim(bad)
    assert guard.claim(out / "deep" / "x.png") == (out / "deep" / "x.png", None)


def test_guard_replaces_its_own_files_but_not_foreign_ones_or_inputs(tmp_path: Path) -> None:
    ours, foreign, photo = tmp_path / "ours.png", tmp_path / "foreign.png", tmp_path / "photo.png"
    ours.write_bytes(encode_png(PIXELS, {"version": "1"}))
    foreign.write_bytes(encode_png(PIXELS))  # a PNG, but without styleclip's metadata
    photo.write_bytes(encode_png(PIXELS, {"version": "1"}))
    guard = OutputGuard(tmp_path, protected={photo.resolve()})
    assert guard.claim(ours)[0] == ours
    with pytest.raises(OutputRefused, match="not written by styleclip"):
        guard.claim(foreign)
    with pytest.raises(OutputRefused, match="reads"):
        guard.claim(photo)
    forced = OutputGuard(tmp_path, protected={photo.resolve()}, overwrite=True)
    assert forced.claim(foreign)[0] == foreign
    with pytest.raises(OutputRefused, match="reads"):  # --overwrite never replaces an input
        forced.claim(photo)
    hard_link = tmp_path / "link.png"
    os.link(photo, hard_link)
    with pytest.raises(OutputRefused, match="reads"):
        forced.claim(hard_link)


def test_latent_files_are_recognised_by_their_format_tag(tmp_path: Path) -> None:
    batch = LatentBatch(torch.zeros(1, 4, 8), ["a"])
    for name in ("a.pt", "a.npz"):
        save_latents(tmp_path / name, batch)
        assert written_by_styleclip(tmp_path / name)
    torch.save({"w": torch.zeros(2)}, tmp_path / "other.pt")
    np.savez(tmp_path / "other.npz", w=np.zeros(2))
    assert not written_by_styleclip(tmp_path / "other.pt")
    assert not written_by_styleclip(tmp_path / "other.npz")


def test_a_second_write_of_one_path_in_a_run_is_numbered(tmp_path: Path) -> None:
    guard = OutputGuard(tmp_path)
    assert guard.claim(tmp_path / "x.png") == (tmp_path / "x.png", None)
    path, notice = guard.claim(tmp_path / "x.png")
    assert path == tmp_path / "x_2.png" and "x.png" in notice
    assert guard.claim(tmp_path / "x.png")[0] == tmp_path / "x_3.png"


def _save_plan(*paths: str, source: dict | None = None) -> dict:
    steps = [source or {"kind": "source", "op": "generate", "subject": "s", "params": {"seeds": [1],
                                                                                     "truncation": 0.7}}]
    steps += [{"kind": "save", "input": "s1", "mode": "image", "path": p} for p in paths]
    return make_plan(steps)


def test_executor_numbers_a_collision_and_refuses_inputs_and_foreign_files(env, tmp_path: Path) -> None:
    events: list[dict] = []
    ex = open_executor(str(env), "cpu", events.append)
    out = tmp_path / "o"
    report = ex.run(_save_plan("x.png", "x.png"), "", out, out)
    assert [p.name for p in report.outputs] == ["x.png", "x_2.png"]
    assert any(e["event"] == "warning" and "x_2.png" in e["message"] for e in events)
    again = ex.run(_save_plan("x.png"), "", out, out)  # its own output of an earlier run: replaced
    assert again.outputs == [out / "x.png"]
    (out / "mine.png").write_bytes(b"not an image")
    with pytest.raises(StepError, match="not written by styleclip"):
        ex.run(_save_plan("mine.png"), "", out, out)
    assert (out / "mine.png").read_bytes() == b"not an image"
    ex.run(_save_plan("mine.png"), "", out, out, overwrite=True)
    assert written_by_styleclip(out / "mine.png")
    recipe = out / "r.png"
    recipe.write_bytes(encode_png(PIXELS, {"version": "1"}))
    with pytest.raises(StepError, match="reads"):
        ex.run(_save_plan("r.png"), "", out, out, recipe_path=recipe, overwrite=True)
    photo = out / "photos" / "p.png"
    photo.parent.mkdir()
    photo.write_bytes(encode_png(np.full((64, 64, 3), 128, np.uint8), {"version": "1"}))
    invert = {"kind": "source", "op": "invert", "subject": "p", "params": {"paths": ["photos/p.png"]}}
    with pytest.raises(StepError, match="reads"):
        ex.run(_save_plan("photos/{name}.png", source=invert), "", out, out, overwrite=True)


def test_every_format_the_runtime_writes_is_recognised_as_its_own(tmp_path: Path) -> None:
    """Else the second run of a recipe would refuse to replace its own animation or JPEG."""
    from styleclip_runtime.io.animation import AnimationOptions, encode_animation
    from styleclip_runtime.io.stills import encode_still

    frames = [np.full((16, 16, 3), 60 * i, np.uint8) for i in range(3)]
    for suffix in (".gif", ".webp", ".mp4"):
        path = tmp_path / f"a{suffix}"
        path.write_bytes(encode_animation(suffix, frames, ["a", "b", "c"], AnimationOptions.from_params({}),
                                          "styleclip-dsl s3 line 4"))
        assert written_by_styleclip(path), suffix
    for suffix in (".png", ".jpg"):
        path = tmp_path / f"s{suffix}"
        path.write_bytes(encode_still(suffix, frames[0], {"version": "1"}))
        assert written_by_styleclip(path), suffix
        path.write_bytes(encode_still(suffix, frames[0]))
        assert not written_by_styleclip(path), suffix


def test_a_foreign_run_json_is_kept_and_the_run_says_so(env, tmp_path: Path) -> None:
    events: list[dict] = []
    ex = open_executor(str(env), "cpu", events.append)
    out = tmp_path / "o"
    out.mkdir()
    (out / "run.json").write_text('{"mine": 1}')
    report = ex.run(_save_plan("x.png"), "", out, out)
    assert report.manifest is None and (out / "run.json").read_text() == '{"mine": 1}'
    assert any(e["event"] == "warning" and "run.json" in e["message"] for e in events)
    (out / "run.json").unlink()
    assert ex.run(_save_plan("x.png"), "", out, out).manifest == out / "run.json"
    assert ex.run(_save_plan("x.png"), "", out, out).manifest == out / "run.json"  # its own: replaced
