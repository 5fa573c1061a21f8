"""The demo photos exist, match their README, and the judge reads what the README says."""
import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from styleclip_zoo.toon import FAMILIES
from styleclip_runtime.models.judge import load_judge
from styleclip_zoo.toon.photos import PHOTOS
from styleclip_zoo.toon.renderer import render

ROOT = Path(__file__).resolve().parents[3]
PHOTO_DIR = ROOT / "recipes" / "photos"


def readme_rows() -> dict[str, dict[str, str]]:
    lines = (PHOTO_DIR / "README.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| photo"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    rows = {}
    for line in lines:
        m = re.match(r"\| (\w+)\.png \|", line)
        if m:
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[m.group(1)] = dict(zip(cols, cells))
    return rows


def test_photos_exist_as_64px_rgb_and_are_the_listed_renders():
    rows = readme_rows()
    assert set(rows) == {"ada", "bo", "cy", "dee"} == set(PHOTOS)
    for name, (attrs, seed) in PHOTOS.items():
        img = Image.open(PHOTO_DIR / f"{name}.png")
        assert img.size == (64, 64) and img.mode == "RGB"
        assert np.array_equal(np.asarray(img), np.asarray(render(attrs, seed)))
        assert all(rows[name][f] == attrs.value(f) for f in FAMILIES)


def test_photos_leave_room_for_the_demo_edits():
    for row in readme_rows().values():
        assert row["expression"] != "smile" and row["glasses"] == "none" and row["hair_color"] != "purple"
        assert row["hair_style"] != "bald" and row["eyes"] == "open" and row["beard"] == "none"


def test_judge_reads_the_readme_attributes_from_the_files():
    judge = load_judge(ROOT / "runtime" / "modelsets" / "toon" / "judge.safetensors")
    rows = readme_rows()
    names = sorted(rows)
    x = torch.stack([torch.from_numpy(np.array(Image.open(PHOTO_DIR / f"{n}.png"))).permute(2, 0, 1)
                     for n in names]).float() / 127.5 - 1
    for name, verdict in zip(names, judge.predict(x)):
        for family in FAMILIES:
            assert verdict.value(family) == rows[name][family], (name, family, verdict[family])
