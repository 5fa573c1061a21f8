"""The four toon "photos" shipped in recipes/photos/ for the demo recipes.

None smiles, wears glasses, has purple hair, is bald, has closed eyes or a
beard, so that the demo edits (smile, glasses, purple hair, ...) are visible.
``python -m styleclip_zoo.toon.photos [folder]`` re-renders them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .attributes import FAMILIES, Attributes
from .renderer import render

PHOTOS: dict[str, tuple[Attributes, int]] = {
    "ada": (Attributes(hair_style="long", hair_color="red", expression="neutral", skin="light", background=0.58), 11),
    "bo": (Attributes(hair_style="short", hair_color="black", expression="sad", skin="tan", background=0.30), 22),
    "cy": (Attributes(hair_style="curly", hair_color="blonde", expression="neutral", skin="brown", background=0.07), 33),
    "dee": (Attributes(hair_style="bob", hair_color="white", expression="surprised", skin="dark", background=0.9), 44),
}

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "recipes" / "photos"


def readme_table() -> str:
    """The attribute table written into recipes/photos/README.md."""
    head = "| photo | " + " | ".join(FAMILIES) + " | background hue | nuisance seed |"
    rule = "|" + " --- |" * (len(FAMILIES) + 3)
    rows = [head, rule]
    for name, (attrs, seed) in PHOTOS.items():
        cells = " | ".join(attrs.value(f) for f in FAMILIES)
        rows.append(f"| {name}.png | {cells} | {attrs.background:.2f} | {seed} |")
    return "\n".join(rows)


def write_photos(folder: Path = DEFAULT_DIR) -> list[Path]:
    """Render the photos as 64x64 PNGs into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (attrs, seed) in PHOTOS.items():
        path = folder / f"{name}.png"
        render(attrs, seed, 64).save(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_photos(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR):
        print(p)
    print(readme_table())
