"""Generator synthesis speed and peak memory on CPU: fast paths vs the naive
reference path, measured in the same run.

    python bench/bench_generator.py                 # 256 and 1024 px, batch 1 and 4
    python bench/bench_generator.py --quick         # 256 px, batch 1 only

Paths:
- ``naive``: per-sample weights in a grouped convolution, resampling by
  zero insertion + convolution (``Generator.set_impl("reference")``), float32;
- ``fast``: style-scaled input, one shared-weight convolution, demodulation
  on the output, depthwise resampling convolutions, float32, contiguous;
- ``fast-cl``: the same in ``channels_last`` (the generator's CPU default);
- ``fast-bf16`` / ``fast-bf16-cl``: under ``torch.autocast("cpu", dtype=torch.bfloat16)``
  (a win only on CPUs with native bf16, e.g. AMX); ``naive-bf16``: the naive
  path under the same autocast (the reference port's bf16);
- ``fused-fp32`` / ``fused-bf16``: ``runtime/models/synthesis_fused.py``
  (styles folded into the weights, one conv per upsampling, channels-last),
  the paths ``Generator.use_measured_path`` chooses among.

Each measurement runs in its own subprocess so that the peak resident
memory (``resource.getrusage``) belongs to that configuration alone; the
generator has random weights (FFHQ config-f shapes). Times are seconds per
image (best of ``--repeats`` after one warm-up), as wall time and as process
CPU time (steadier when other jobs share the machine); ratios are naive / path;
``max rel err`` and ``PSNR`` compare the image to the naive path's (fp32).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATHS = ("naive", "naive-bf16", "fast", "fast-cl", "fast-bf16", "fast-bf16-cl", "fused-fp32", "fused-bf16")


def measure(size: int, batch: int, path: str, repeats: int, out_file: str) -> dict:
    import torch

    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    g = Generator(size, 512, 8, channel_multiplier=2).eval()
    g.set_impl("reference" if path.startswith("naive") else "fast")
    cl = path.endswith("-cl") or path.startswith("fused")
    g.set_memory_format(torch.channels_last if cl else torch.contiguous_format)
    if path.startswith("fused"):
        g.set_synthesis_path(path)
    w = torch.randn(batch, 512, generator=torch.Generator().manual_seed(1))
    bf16 = "bf16" in path and not path.startswith("fused")  # the fused path casts itself
    with torch.inference_mode():
        styles = g.styles(w)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, cpu_times = [], []
        for i in range(repeats + 1):
            start, cpu_start = time.perf_counter(), time.process_time()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                image = g.synthesize(styles)
            if i:
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.save(image.float(), out_file)
    return {"size": size, "batch": batch, "path": path, "s_per_image": min(times) / batch,
            "cpu_s_per_image": min(cpu_times) / batch,
            "peak_rss_mib": rss_after / 1024, "synthesis_rss_mib": (rss_after - rss_before) / 1024,
            "threads": torch.get_num_threads()}


def run_child(size: int, batch: int, path: str, repeats: int, out_file: str) -> dict:
    cmd = [sys.executable, __file__, "--child", str(size), str(batch), path, str(repeats), out_file]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="256 px, batch 1, one repeat")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, batch, path, repeats, out_file = args.child
        print(json.dumps(measure(int(size), int(batch), path, int(repeats), out_file)))
        return
    if args.quick:
        args.sizes, args.batches, args.repeats = [256], [1], 1
    import torch

    from styleclip_runtime.models.synthesis_path import psnr

    paths = ["naive"] + [p for p in args.paths if p != "naive"]
    print(f"seconds per image, best of {args.repeats} after a warm-up; x naive = naive time / path time")
    header = f"{'size':>5} {'batch':>5} {'path':<13} {'wall s/img':>10} {'x naive':>8} {'cpu s/img':>10} " \
             f"{'x naive':>8} {'peak RSS MiB':>13} {'synth +MiB':>11} {'max rel err':>12} {'PSNR dB':>8}"
    print(header)
    print("-" * len(header), flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            for batch in args.batches:
                images = {}
                for path in paths:  # rows print as they come, so a long run keeps its results
                    out_file = str(Path(tmp) / f"{size}_{batch}_{path}.pt")
                    r = run_child(size, batch, path, args.repeats, out_file)
                    images[path] = torch.load(out_file, weights_only=True)
                    ref = images["naive"]
                    r["max_rel_err"] = float((images[path] - ref).abs().max() / ref.abs().max())
                    r["psnr_db"] = psnr(images[path], ref)
                    if path == "naive":
                        base = r
                    b = base
                    rows.append(r)
                    print(f"{r['size']:>5} {r['batch']:>5} {r['path']:<13} {r['s_per_image']:>10.3f} "
                          f"{b['s_per_image'] / r['s_per_image']:>7.2f}x {r['cpu_s_per_image']:>10.3f} "
                          f"{b['cpu_s_per_image'] / r['cpu_s_per_image']:>7.2f}x {r['peak_rss_mib']:>13.0f} "
                          f"{r['synthesis_rss_mib']:>11.0f} {r['max_rel_err']:>12.2e} {r['psnr_db']:>8.1f}", flush=True)
    print(f"torch threads: {rows[0]['threads']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
