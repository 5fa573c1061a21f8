"""The GPU check of #21 item 4: numbers first, then speed, in one table.

    python bench/gpu_check.py                      # on a CUDA machine (bench/gpu_check.sh calls this)
    python bench/gpu_check.py --device cpu --quick # the same code paths at toy sizes, on a CPU

On CUDA it builds the compiled ops (runtime/models/ops, ninja + nvcc), checks them and the
generator against the reference PyTorch path (relative error), and measures, on random weights
of the FFHQ shapes (StyleGAN2 config-f 1024 px, e4e, a CLIP ViT-B/32 with random weights):

- 1024-px synthesis ms/img at batch 1 and 16, fp32 and bf16 (autocast), and with a CUDA graph;
- a global edit (StyleSpace offset + synthesis) ms/img at batch 16 (target <= 2 ms);
- e4e inversion ms/img at batch 16 (target <= 2 ms);
- 100 steps of latent optimization, one subject (target <= 3 s);
- one mapper-training step at the default batch;
- the peak device memory of an optimization chunk against `plan --explain --memory`'s estimate.

Exit status: 0 every check passed; 1 a numeric mismatch (a relative error or PSNR past its bound);
2 no CUDA device (nothing measured; `--device cpu` runs the CPU smoke version); 3 the compiled
ops did not build (the rest is measured on the PyTorch paths). Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

EXIT_OK, EXIT_MISMATCH, EXIT_NO_CUDA, EXIT_NO_OPS = 0, 1, 2, 3
BUILD_ROW = "build (ninja, nvcc)"


@dataclass
class Row:
    section: str
    name: str
    value: str
    target: str = ""
    status: str = "info"  # ok | FAIL | info | skip


@dataclass(frozen=True)
class Sizes:
    """What a run measures at: the real shapes on CUDA, toy ones for the CPU smoke run."""

    size: int = 1024
    check_size: int = 256
    style_dim: int = 512
    generator: tuple[int, float, int] = (8, 2, 512)  # n_mlp, channel_multiplier, channel_max (config-f)
    batches: tuple[int, ...] = (1, 16)
    edit_batch: int = 16
    e4e: dict | None = None  # E4EConfig overrides (None: the FFHQ encoder)
    clip_arch: str | None = "ViT-B-32-quickgelu"  # None: a toy CLIP
    opt_steps: int = 100
    mapper_steps: int = 5
    mapper_batch: int = 8
    memory_batch: int = 4
    repeats: int = 10


FULL = Sizes()
QUICK = Sizes(size=32, check_size=32, style_dim=32, generator=(2, 0.25, 16), batches=(1, 2), edit_batch=2,
              e4e={"input_size": 32, "n_styles": 8, "style_dim": 32, "stage_units": [1, 1, 1, 1],
                   "widths": [4, 8, 12, 16]},
              clip_arch=None, opt_steps=3, mapper_steps=2, mapper_batch=2, memory_batch=2, repeats=2)
TOY_CLIP = {"embed_dim": 32,
            "vision_cfg": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "head_width": 16},
            "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}


def rel_err(a, b) -> float:
    """max |a - b| / max |b| (both compared in float64 on the CPU)."""
    a, b = a.detach().double().cpu(), b.detach().double().cpu()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-12))


def psnr(a, b) -> float:
    """The lowest PSNR in dB over a batch of images in [-1, 1] (``metrics.psnr``, as runs report it),
    inf for identical images (where ``metrics.psnr`` stops at 120 dB)."""
    import torch

    from styleclip_runtime.execution.expect_metrics import psnr as image_psnr

    a, b = a.detach().float().cpu(), b.detach().float().cpu()
    return math.inf if torch.equal(a, b) else float(image_psnr(a, b).min())


def bound(section: str, name: str, value: float, limit: float, below: bool = True, fmt: str = "{:.2e}") -> Row:
    ok = value <= limit if below else value >= limit
    return Row(section, name, fmt.format(value), ("<= " if below else ">= ") + fmt.format(limit),
               "ok" if ok else "FAIL")


def timer(device) -> Callable[[Callable[[], object], int], float]:
    """Seconds per call of ``fn`` (after two warm-up calls), synchronised on CUDA."""
    import torch

    def run(fn: Callable[[], object], repeats: int) -> float:
        for _ in range(2):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return (time.perf_counter() - start) / repeats

    return run


def target(ms: float, limit_ms: float) -> tuple[str, str]:
    return f"<= {limit_ms:g} ms", ("ok" if ms <= limit_ms else "slower")


# -- sections ---------------------------------------------------------------------------------
def check_ops(device, rtol: float) -> tuple[list[Row], bool]:
    """The compiled kernels (CUDA) or the fast PyTorch paths (CPU) against the reference ops.
    Returns (rows, built)."""
    import torch

    from styleclip_runtime.models.ops import _cuda
    from styleclip_runtime.models.ops.bias_act import fused_bias_leaky_relu
    from styleclip_runtime.models.ops.upfirdn2d import make_kernel, upfirdn2d

    rows, built = [], True
    if device.type == "cuda":
        t0 = time.perf_counter()
        ext = _cuda.extension()
        built = ext is not None
        rows.append(Row("ops", BUILD_ROW, f"{time.perf_counter() - t0:.1f} s" if built else "failed",
                        "builds", "ok" if built else "FAIL"))
        what = "CUDA kernel" if built else "PyTorch path on CUDA (no kernel)"
    else:
        what = "fast PyTorch path"
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 16, 16, generator=gen).to(device)
    k = make_kernel([1, 3, 3, 1])
    with torch.no_grad():
        for up, down, pad in ((2, 1, (2, 1)), (1, 1, (1, 1)), (1, 2, (1, 1))):
            fast = upfirdn2d(x, k.to(device) * (4 if up == 2 else 1), up, down, pad)
            ref = upfirdn2d(x.cpu(), k * (4 if up == 2 else 1), up, down, pad, impl="reference")
            rows.append(bound("ops", f"upfirdn2d up={up} down={down} pad={pad}: {what} vs reference",
                              rel_err(fast, ref), rtol))
        bias = torch.randn(8, generator=gen).to(device)
        fast = fused_bias_leaky_relu(x, bias)
        ref = fused_bias_leaky_relu(x.cpu(), bias.cpu(), impl="reference")
        rows.append(bound("ops", f"bias + leaky ReLU: {what} vs reference", rel_err(fast, ref), rtol))
    return rows, built


def generator(sizes: Sizes, size: int, device):
    import torch

    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    n_mlp, multiplier, channel_max = sizes.generator
    g = Generator(size, sizes.style_dim, n_mlp, channel_multiplier=multiplier, channel_max=channel_max)
    g = g.eval().to(device)
    for p in g.parameters():
        p.requires_grad_(False)
    return g


def check_generator(sizes: Sizes, device, rtol: float, min_psnr: float) -> list[Row]:
    """The generator on ``device`` (fast path, kernels) against the reference path in fp32 on the CPU,
    and its bf16 autocast output against its fp32 output (PSNR)."""
    import torch

    g = generator(sizes, sizes.check_size, torch.device("cpu"))
    w = torch.randn(2, sizes.style_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        g.set_impl("reference")
        ref = g.synthesize(g.styles(w))
        g.set_impl("fast").to(device)
        styles = [s.to(device) for s in g.styles(w.to(device))]
        fast = g.synthesize(styles)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            low = g.synthesize(styles)
    px = sizes.check_size
    return [bound("generator", f"{px} px fp32 fast ({device.type}) vs reference (CPU) rel err", rel_err(fast, ref),
                  rtol),
            bound("generator", f"{px} px bf16 vs fp32 PSNR", psnr(low.float(), fast), min_psnr, below=False,
                  fmt="{:.1f} dB")]


def bench_synthesis(sizes: Sizes, device, g) -> list[Row]:
    import torch

    run, rows = timer(device), []
    for batch in sizes.batches:
        w = torch.randn(batch, sizes.style_dim, device=device)
        with torch.no_grad():
            styles = g.styles(w)
            for label, bf16 in (("fp32", False), ("bf16", True)):
                def synth() -> object:
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                        return g.synthesize(styles)
                ms = 1000 * run(synth, sizes.repeats) / batch
                rows.append(Row("synthesis", f"{sizes.size} px {label} batch {batch}", f"{ms:.2f} ms/img"))
    if device.type == "cuda":
        rows.append(cuda_graph_synthesis(sizes, device, g))
    return rows


def cuda_graph_synthesis(sizes: Sizes, device, g) -> Row:
    """Batch-16 bf16 synthesis replayed as one CUDA graph (no per-kernel launch cost)."""
    import torch

    batch = max(sizes.batches)
    name = f"{sizes.size} px bf16 batch {batch}, CUDA graph"
    try:
        with torch.no_grad():
            styles = [s.clone() for s in g.styles(torch.randn(batch, sizes.style_dim, device=device))]
            stream = torch.cuda.Stream(device)
            stream.wait_stream(torch.cuda.current_stream(device))
            # autocast's weight-cast cache cannot live across a graph capture: off for the graph
            with torch.cuda.stream(stream), torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
                for _ in range(3):
                    g.synthesize(styles)
            torch.cuda.current_stream(device).wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph), torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
                g.synthesize(styles)
        ms = 1000 * timer(device)(graph.replay, sizes.repeats) / batch
        return Row("synthesis", name, f"{ms:.2f} ms/img")
    except Exception as exc:  # a graph that cannot be captured is a finding, not a failure
        return Row("synthesis", name, f"n/a ({type(exc).__name__})", status="skip")


def bench_global_edit(sizes: Sizes, device, g) -> list[Row]:
    """What a global edit runs per batch: StyleSpace codes + alpha x direction, then synthesis (bf16)."""
    import torch

    batch = sizes.edit_batch
    w = torch.randn(batch, sizes.style_dim, device=device)
    direction = [torch.randn(s.shape[-1], device=device) * 0.1 for s in g.styles(w[:1])]

    def edit() -> object:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            styles = [s + 3.0 * d for s, d in zip(g.styles(w), direction)]
            return g.synthesize(styles)

    ms = 1000 * timer(device)(edit, sizes.repeats) / batch
    tgt, status = target(ms, 2.0)
    return [Row("global edit", f"{sizes.size} px batch {batch} bf16", f"{ms:.2f} ms/img", tgt, status)]


def bench_e4e(sizes: Sizes, device) -> list[Row]:
    import torch

    from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing

    torch.manual_seed(0)
    enc = Encoder4Editing(E4EConfig(**(sizes.e4e or {}))).eval().to(device)
    batch = sizes.edit_batch
    x = torch.randn(batch, 3, enc.config.input_size, enc.config.input_size, device=device)

    def invert() -> object:
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16):
            return enc(x)

    ms = 1000 * timer(device)(invert, sizes.repeats) / batch
    tgt, status = target(ms, 2.0)
    return [Row("e4e", f"{enc.config.input_size} px batch {batch} bf16", f"{ms:.2f} ms/img", tgt, status)]


def clip_model(sizes: Sizes, device):
    import open_clip
    import torch
    from open_clip.model import CLIP
    from open_clip.tokenizer import SimpleTokenizer

    from styleclip_runtime.models.clip_model import ClipModel

    torch.manual_seed(0)
    if sizes.clip_arch:
        model = open_clip.create_model(sizes.clip_arch, pretrained=None)
        return ClipModel(model.float(), open_clip.get_tokenizer(sizes.clip_arch), fingerprint="random",
                         device=device)
    model = CLIP(embed_dim=TOY_CLIP["embed_dim"], vision_cfg=dict(TOY_CLIP["vision_cfg"]),
                 text_cfg=dict(TOY_CLIP["text_cfg"]))
    return ClipModel(model.float(), SimpleTokenizer(context_length=16), fingerprint="random", device=device)


def bench_optimization(sizes: Sizes, device, g, clip) -> list[Row]:
    import torch

    from styleclip_runtime.engines.optimization import optimize

    text = clip.encode_text(["a face with a smile"])[0].float()
    w = g.to_wplus(g.mapping(torch.randn(1, sizes.style_dim, device=device)))
    optimize(g, clip, w, text, steps=2)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    optimize(g, clip, w, text, steps=sizes.opt_steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    ok = seconds <= 3.0 if sizes.opt_steps == 100 else True
    return [Row("optimization", f"{sizes.opt_steps} steps, {sizes.size} px, 1 subject", f"{seconds:.2f} s",
                "<= 3 s" if sizes.opt_steps == 100 else "", "ok" if ok else "slower")]


def bench_mapper(sizes: Sizes, device, g, clip) -> list[Row]:
    import torch

    from styleclip_runtime.engines.mapper import MapperTraining, train_mapper

    def train(steps: int) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        train_mapper(g, clip, "a smile", MapperTraining(steps=steps, batch=sizes.mapper_batch))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - t0

    train(1)  # warm-up
    base = train(1)
    per_step = (train(1 + sizes.mapper_steps) - base) / sizes.mapper_steps  # set-up cost cancels
    return [Row("mapper", f"training step, batch {sizes.mapper_batch}, {sizes.size} px", f"{per_step:.3f} s/step")]


def check_memory(sizes: Sizes, device, g, clip) -> list[Row]:
    """Peak device memory of an optimization chunk against the estimate `plan --explain --memory` gives
    for the ffhq set (its generator config; CLIP's file is absent here, so its parameters are added)."""
    import torch

    from styleclip_runtime.engines.optimization import optimize
    from styleclip_runtime.execution.memory_estimate import MemoryEstimate, format_bytes, generator_backward_bytes, \
        generator_weight_bytes

    if device.type != "cuda":
        return [Row("memory", "peak vs explain's estimate", "skipped on the CPU", status="skip")]
    batch = sizes.memory_batch
    est = MemoryEstimate(batch, generator_backward_bytes(g.config), generator_weight_bytes(g.config))
    clip_bytes = sum(p.numel() * p.element_size() for p in clip.model.parameters())
    text = clip.encode_text(["a face with a smile"])[0].float()
    w = g.to_wplus(g.mapping(torch.randn(batch, sizes.style_dim, device=device)))
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    optimize(g, clip, w, text, steps=2)
    peak = torch.cuda.max_memory_allocated(device)
    expected = est.total + clip_bytes
    return [Row("memory", f"optimization peak, batch {batch}", format_bytes(peak)),
            Row("memory", "explain --memory estimate (+ CLIP weights)", format_bytes(expected)),
            Row("memory", "peak / estimate", f"{peak / expected:.2f}", "0.8 .. 1.5",
                "ok" if 0.8 <= peak / expected <= 1.5 else "off")]


# -- the run ----------------------------------------------------------------------------------
def print_table(rows: list[Row], out=sys.stdout) -> None:
    widths = [max(len(getattr(r, f)) for r in rows + [Row("section", "measure", "value", "target", "status")])
              for f in ("section", "name", "value", "target", "status")]
    line = "| " + " | ".join(f"{{:{w}s}}" for w in widths) + " |"
    print(line.format("section", "measure", "value", "target", "status"), file=out)
    print("| " + " | ".join("-" * w for w in widths) + " |", file=out)
    for r in rows:
        print(line.format(r.section, r.name, r.value, r.target, r.status), file=out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="GPU check of #21 item 4 (see the module docstring).")
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for the smoke run")
    ap.add_argument("--quick", action="store_true", help="toy sizes (the CPU smoke run's)")
    ap.add_argument("--rtol", type=float, default=1e-3, help="bound on fp32 relative errors (default 1e-3)")
    ap.add_argument("--min-psnr", type=float, default=35.0, help="bound on bf16 vs fp32 PSNR in dB (default 35)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    args = parse_args(argv)
    import torch

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False): nothing measured. "
              "Run it on a CUDA machine, or `--device cpu --quick` for the CPU smoke run.", file=out)
        return EXIT_NO_CUDA
    sizes = QUICK if args.quick else FULL
    # fp32 means fp32 while the numbers are checked: no TF32 convolutions or matmuls; the timings
    # then run with PyTorch's defaults (cuDNN convolutions in TF32), as the runtime does
    defaults = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    start = time.perf_counter()
    rows, built = check_ops(device, args.rtol)
    rows += check_generator(sizes, device, args.rtol, args.min_psnr)
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = defaults
    g = generator(sizes, sizes.size, device)
    clip = clip_model(sizes, device)
    for section in (lambda: bench_synthesis(sizes, device, g), lambda: bench_global_edit(sizes, device, g),
                    lambda: bench_e4e(sizes, device), lambda: bench_optimization(sizes, device, g, clip),
                    lambda: bench_mapper(sizes, device, g, clip), lambda: check_memory(sizes, device, g, clip)):
        rows += section()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"gpu_check on {name}, torch {torch.__version__}, {time.perf_counter() - start:.0f} s", file=out)
    print_table(rows, out)
    code = exit_status(rows, built)
    if code == EXIT_MISMATCH:
        print("gpu_check: NUMERIC MISMATCH (rows marked FAIL)", file=out)
    elif code == EXIT_NO_OPS:
        print("gpu_check: the compiled ops did not build (see the warning above); the PyTorch paths were "
              "measured", file=out)
    return code


def exit_status(rows: list[Row], built: bool) -> int:
    """A failed numeric check before a failed build: a wrong number is the worse news."""
    if any(r.status == "FAIL" and r.section in ("ops", "generator") and r.name != BUILD_ROW for r in rows):
        return EXIT_MISMATCH
    return EXIT_OK if built else EXIT_NO_OPS


if __name__ == "__main__":
    sys.exit(main())
