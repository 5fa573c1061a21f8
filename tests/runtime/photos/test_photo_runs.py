"""Photos through `invert` on a set whose YAML says `align: ffhq` (tiny random networks; the real
ffhq weights are not on this machine): one subject per face, `face=N`, no face
as an error naming the file (exit 3), the faces in `plan --explain`; sets without `align:` keep the
centre crop. The CLI cases also cover a FIFO and a decompression bomb given as photos."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from styleclip_runtime.execution.errors import StepError
from styleclip_runtime.io.photos.align import align_face
from styleclip_runtime.io.photos.faces import find_faces
from styleclip_runtime.execution.build_executor import open_executor
from typer.testing import CliRunner

from styleclip_dsl.cli import app

from ..test_executor import make_plan
from ..tiny_modelset import ENC, GEN, write_generator_and_encoder
from .photo_files import astronaut, call_or_unblock, no_face_photo, write_huge_png_header


def write_set(folder: Path, name: str, align: str | None) -> Path:
    """A generator and its encoder at toy size (tiny_modelset's), described by a YAML with or
    without `align: ffhq`; inverting needs nothing more."""
    if not (folder / "generator.pt").exists():
        write_generator_and_encoder(folder, mean_samples=64)
    spec = {"schema": 1, "name": name, "generator": {"file": {"path": "generator.pt"}, "config": GEN},
            "encoder": {"file": {"path": "encoder.pt"}, "config": ENC}}
    if align:
        spec["align"] = align
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def aligned_set(tmp_path_factory) -> Path:
    return write_set(tmp_path_factory.mktemp("sets"), "tiny-aligned", "ffhq")


@pytest.fixture(scope="module")
def plain_set(aligned_set) -> Path:
    return write_set(aligned_set.parent, "tiny", None)


@pytest.fixture()
def photos(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "photos"
    folder.mkdir()
    face = astronaut()[::2, ::2]
    Image.fromarray(np.concatenate([face, face[:, ::-1]], axis=1)).save(folder / "pair.png")
    Image.fromarray(no_face_photo()).save(folder / "cup.png")
    return folder


def invert_plan(paths: list[str], modelset: str, **params) -> dict:
    return make_plan([{"kind": "source", "op": "invert", "subject": "p", "params": {"paths": paths, **params}},
                      {"kind": "save", "input": "s1", "mode": "grid", "path": "out/grid.png"}], modelset=modelset)


def test_every_face_is_a_subject_aligned_as_ffhq(aligned_set, photos, tmp_path) -> None:
    executor = open_executor(str(aligned_set), "cpu")
    report = executor.run(invert_plan(["photos/pair.png"], "tiny-aligned"), "# r\n", tmp_path, tmp_path)
    items = next(iter(executor.memo.values()))
    assert [it.name for it in items] == ["pair_1", "pair_2"]
    pair = np.asarray(Image.open(photos / "pair.png"))
    expected = [align_face(pair, f.landmarks, 32).pixels for f in find_faces(pair)]
    for item, crop in zip(items, expected):  # the encoder saw the FFHQ crop, not a centre crop
        assert np.array_equal(item.photo.image(), crop) and item.photo.faces == 2
    record = json.loads(report.manifest.read_text())
    aligned = record["photos"]
    assert [p["name"] for p in aligned] == ["pair_1", "pair_2"]
    assert len(aligned[0]["alignment"]["landmarks"]) == 68 and len(aligned[0]["alignment"]["quad"]) == 4
    grid = np.asarray(Image.open(tmp_path / "out" / "grid.png"))
    # rows: the two faces; columns: photo (the aligned crop), inversion, and the step's own images
    cell = 2 * 32  # make_grid scales 32 px images by 2
    label_w, top, pad = (len("pair_1") * 7 + 8), 18, 4
    assert grid.shape[1] == label_w + 3 * (cell + pad) + pad
    for r, crop in enumerate(expected):
        y = top + pad + r * (cell + pad)
        shown = grid[y:y + cell, label_w + pad:label_w + pad + cell]
        assert np.array_equal(shown, np.repeat(np.repeat(crop, 2, axis=0), 2, axis=1))


def test_face_n_picks_one_and_out_of_range_is_an_error(aligned_set, photos, tmp_path) -> None:
    executor = open_executor(str(aligned_set), "cpu")
    executor.run(invert_plan(["photos/pair.png"], "tiny-aligned", face=2), "# r\n", tmp_path, tmp_path)
    assert [it.name for items in executor.memo.values() for it in items] == ["pair_2"]
    with pytest.raises(StepError, match=r"face=3: .*pair\.png has 2 face\(s\)"):
        executor.run(invert_plan(["photos/pair.png"], "tiny-aligned", face=3), "# r\n", tmp_path, tmp_path)


def test_sets_without_align_keep_the_centre_crop_and_say_so(plain_set, photos, tmp_path) -> None:
    events: list[dict] = []
    executor = open_executor(str(plain_set), "cpu", events.append)
    report = executor.run(invert_plan(["photos/pair.png"], "tiny"), "# r\n", tmp_path, tmp_path)
    items = [it for items in executor.memo.values() for it in items]
    assert [it.name for it in items] == ["pair"]
    assert items[0].photo.alignment == {"method": "centre-crop", "size": 32, "photo_size": [512, 256],
                                        "crop": [128, 0, 384, 256]}
    assert json.loads(report.manifest.read_text())["photos"][0]["alignment"]["crop"] == [128, 0, 384, 256]
    notices = [e["message"] for e in events if e.get("event") == "notice"]
    assert any("pair.png is 512x256: only its centre 256x256 is inverted" in m for m in notices)
    with pytest.raises(StepError, match="face= needs a model set that finds faces"):
        executor.run(invert_plan(["photos/pair.png"], "tiny", face=1), "# r\n", tmp_path, tmp_path)


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def test_the_cli_names_the_photo_without_a_face_and_explains_faces(aligned_set, photos, tmp_path) -> None:
    recipe = tmp_path / "r.sc"
    recipe.write_text("invert photos/pair.png photos/cup.png as p\nsave grid out/g.png\n")
    result = cli("run", str(recipe), "--models", str(aligned_set), "--out", str(tmp_path), "--device", "cpu")
    assert result.exit_code == 3 and "no face found in" in result.output and "cup.png" in result.output
    explained = cli("plan", str(recipe), "--explain", "--models", str(aligned_set), "--json")
    assert explained.exit_code == 3
    data = json.loads(explained.stdout)
    whats = [n["what"] for s in data["steps"] for n in s["needs"]]
    assert whats == ["pair.png face 1 of 2 (aligned: ffhq)", "pair.png face 2 of 2 (aligned: ffhq)"]
    assert any("no face found in" in p and "cup.png" in p for s in data["steps"] for p in s["problems"])


def test_a_fifo_and_a_decompression_bomb_are_refused_cleanly(plain_set, photos, tmp_path) -> None:
    os.mkfifo(photos / "pipe.png")
    write_huge_png_header(photos / "huge.png")
    for name, message in (("pipe.png", "is a FIFO"), ("huge.png", "too large to decode safely")):
        recipe = tmp_path / "r.sc"
        recipe.write_text(f"invert photos/{name} as p\nsave out/{{name}}.png\n")
        finished, explained = call_or_unblock(photos / "pipe.png", lambda: cli(
            "plan", str(recipe), "--explain", "--models", str(plain_set)))
        assert finished and explained.exit_code == 3 and message in explained.output
        assert "Traceback" not in explained.output
        finished, ran = call_or_unblock(photos / "pipe.png", lambda: cli(
            "run", str(recipe), "--models", str(plain_set), "--out", str(tmp_path), "--device", "cpu"))
        assert finished and ran.exit_code == 3 and message in ran.output


def test_face_n_and_save_aligned_in_a_recipe(aligned_set, photos, tmp_path) -> None:
    """`invert PATH face=N` and `save aligned PATH` from the recipe text to the file: the saved
    picture is the aligned crop the encoder saw (face 2: the mirrored copy, on the right)."""
    from styleclip_dsl.api import check
    from styleclip_dsl.formatter import format_recipe

    text = "invert photos/pair.png face=2 as p\nsave aligned out/{name}_aligned.png\n"
    recipe_ast, diagnostics = check(text)
    assert diagnostics == [] and format_recipe(recipe_ast).strip() == text.strip()
    assert [d.code for d in check("invert a.png face=0")[1]] == ["E-range"]
    recipe = tmp_path / "r.sc"
    recipe.write_text(text)
    result = cli("run", str(recipe), "--models", str(aligned_set), "--out", str(tmp_path), "--device", "cpu")
    assert result.exit_code == 0, result.output
    saved = np.asarray(Image.open(tmp_path / "out" / "pair_2_aligned.png"))
    pair = np.asarray(Image.open(photos / "pair.png"))
    assert np.array_equal(saved, align_face(pair, find_faces(pair)[1].landmarks, 32).pixels)


def test_ffhq_declares_the_alignment_and_toon_keeps_its_crop(tmp_path) -> None:
    from styleclip_runtime.modelsets import registry

    assert registry.find_spec("ffhq").align == "ffhq" and registry.find_spec("toon").align is None
    with pytest.raises(registry.ModelSetError, match=r"odd\.yaml: 'align' must be one of \['ffhq'\]"):
        registry.parse_spec({"name": "odd", "align": "mtcnn"}, tmp_path / "odd.yaml")
