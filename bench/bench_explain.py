"""What the cost estimate costs: a run with its opening estimate against the same run without.

Every ``styleclip run`` explains its plan first (``explain_plan``): it
decodes and hashes each input image to find its inversion in the cache.
The executor's ``ImageDigests`` hands those digests and pixels on to the
``invert`` step, so no image should be decoded twice. This runs a recipe
that inverts N copies of the shipped photos (resized to --size and varied
so that each has its own key), edits and saves them on the toon set, cold
(empty cache) and warm (everything cached), each in a fresh executor as a
fresh process would be, with the estimate on and off. The figures of
merit are the ratios on / off.

    python bench/bench_explain.py [--images 64] [--size 1024]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

RECIPE = """\
invert photos/*.png as crowd
apply 'beard' via global alpha=2
then mapper 'smile' strength=3
save out/{name}.png
"""


def make_photos(folder: Path, n: int, size: int) -> None:
    folder.mkdir(parents=True)
    sources = sorted((ROOT / "recipes" / "photos").glob("*.png"))
    for i in range(n):
        image = Image.open(sources[i % len(sources)]).convert("RGB").resize((size, size), Image.BICUBIC)
        pixels = np.asarray(image).copy()
        pixels[0, 0] = (i % 256, i // 256 % 256, 7)  # one pixel differs: a key of its own
        Image.fromarray(pixels).save(folder / f"p{i:04d}.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--size", type=int, default=1024, help="side of the photos (the encoder resizes them)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.build_executor import open_executor

    from styleclip_dsl.api import compile_recipe

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_photos(tmp / "photos", args.images, args.size)
        plan, _ = compile_recipe(RECIPE, "bench.sc")
        plan_dict = json.loads(plan.to_json())

        def run(cache: str, out: str, estimate: bool) -> tuple[float, int]:
            executor = open_executor("toon", "cpu")
            executor.models.cache = Cache(tmp / cache)
            executor.models.global_stats()  # loading the models is not what is measured
            executor.models.mapper("smile", None, print)
            if not estimate:
                executor._estimate = lambda plan, base: None
            t0 = time.perf_counter()
            executor.run(plan_dict, RECIPE, tmp, tmp / out, write_manifest=False)
            return time.perf_counter() - t0, executor.image_digests.decoded

        figures: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for repeat in range(args.repeats):  # alternate on and off, so that drift hits both
            for estimate in (False, True):
                label = "on" if estimate else "off"
                cache = f"cache-{label}-{repeat}"
                figures.setdefault(("cold", label), []).append(run(cache, f"cold-{label}-{repeat}", estimate))
                figures.setdefault(("warm", label), []).append(run(cache, f"warm-{label}-{repeat}", estimate))
    print(f"{args.images} photos of {args.size} px, toon, cpu, median of {args.repeats}")
    for phase in ("cold", "warm"):
        (off, off_decoded), (on, on_decoded) = (statistics.median(figures[(phase, k)]) for k in ("off", "on"))
        print(f"{phase}: estimate off {off:.2f} s ({off_decoded} decodes), on {on:.2f} s ({on_decoded} decodes): "
              f"{on / off:.2f}x")


if __name__ == "__main__":
    main()
