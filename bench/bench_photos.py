"""What preparing a real photo costs: the FFHQ path (decode, find faces, align) against the
centre crop (decode, crop, resize) of the same file, measured in the same run.

The photo is scikit-image's astronaut (512 x 512, in the wheel), also enlarged to a phone's
4032 x 3024, saved as JPEG. Each path runs ``--repeat`` times on a fresh ``ImageDigests`` (nothing
remembered between runs; dlib's models are loaded once, before the timing, as a warm executor has
them). The figure of merit is the ratio align / centre crop per photo size; the first load of
dlib's models is reported on its own.

    python bench/bench_photos.py [--repeat 5] [--size 256]
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


def median_seconds(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=256, help="the encoder's input (ffhq: 256)")
    args = parser.parse_args()

    from skimage import data

    from styleclip_runtime.io.image_input import ImageDigests
    from styleclip_runtime.io.photos import faces

    t0 = time.perf_counter()
    faces._models()
    load = time.perf_counter() - t0
    photo = data.astronaut()
    results = {"dlib_models_load_s": round(load, 3), "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for label, image in (("512x512", photo),
                             ("4032x3024", np.asarray(Image.fromarray(photo).resize((4032, 4032)))[:3024])):
            path = Path(tmp) / f"{label}.jpg"
            Image.fromarray(image).save(path, quality=92)
            crop = median_seconds(lambda: ImageDigests().subjects(path, args.size, {}, None), args.repeat)
            align = median_seconds(lambda: ImageDigests().subjects(path, args.size, {}, "ffhq"), args.repeat)
            results["sizes"][label] = {"centre_crop_s": round(crop, 4), "align_s": round(align, 4),
                                       "align_over_crop": round(align / crop, 1)}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
