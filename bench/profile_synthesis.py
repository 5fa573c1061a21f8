"""Where the synthesis time goes (#21 item 1): torch.profiler over one image, by kind of work.

    python bench/profile_synthesis.py [--size 1024] [--batch 1] [--repeat 2]

The generator (random weights, FFHQ config-f shapes, the runtime's fast path, channels-last on the
CPU) renders ``--batch`` images once as a warm-up, then ``--repeat`` times under the profiler, in
fp32 and under bf16 autocast. Each aten operator's self CPU time is filed under one kind:

- the modulated 3x3 convolutions, the upsampling (stride-2 transposed) convolutions, the FIR blur
  (depthwise convolutions of ``upfirdn2d``), toRGB (1x1 convolutions);
- the style scaling and demodulation of the activations, and the demodulation coefficients (the
  weights' squares summed and multiplied by the styles' squares, worked out on every call);
- bias + leaky ReLU, noise, copies and dtype casts (weights included), everything else.

The share of each kind is the figure: where a faster path would pay (``classify`` says how an
operator is filed).
"""
from __future__ import annotations

import argparse
from collections import defaultdict

import torch

KINDS = ("modulated conv 3x3", "upsample conv (transposed)", "FIR blur (depthwise)", "toRGB 1x1",
         "bias + leaky ReLU", "noise", "style scale / demodulation", "demodulation coefficients",
         "copies and casts", "other")


def classify(name: str, shapes: list) -> str:
    """The kind of work of one aten operator call, from its name and input shapes. A stride-2
    transposed convolution runs inside ``aten::_convolution`` itself (a plain one hands its work on
    to ``aten::mkldnn_convolution``), so that operator's self time is the upsampling."""
    weight = shapes[1] if len(shapes) > 1 and isinstance(shapes[1], list) else []
    if name == "aten::_convolution" or "conv_transpose" in name:
        return "upsample conv (transposed)"
    if name in ("aten::mkldnn_convolution", "aten::convolution", "aten::conv2d", "aten::thnn_conv2d"):
        if len(weight) == 4 and weight[1] == 1 and weight[0] > 1:
            return "FIR blur (depthwise)"
        if len(weight) == 4 and weight[2:] == [1, 1]:
            return "toRGB 1x1"
        return "modulated conv 3x3"
    if "leaky_relu" in name:
        return "bias + leaky ReLU"
    if name in ("aten::randn", "aten::normal_") or (name == "aten::add" and len(weight) == 4 and weight[1] == 1):
        return "noise"
    if name in ("aten::mm", "aten::pow", "aten::sum", "aten::square", "aten::rsqrt", "aten::addmm"):
        return "demodulation coefficients"  # from the weights' squares, per call
    if name in ("aten::mul", "aten::add", "aten::div"):
        return "style scale / demodulation"
    if name in ("aten::to", "aten::_to_copy", "aten::copy_", "aten::contiguous", "aten::clone"):
        return "copies and casts"
    return "other"


def profile(g, styles, bf16: bool, repeat: int) -> dict[str, float]:
    from torch.profiler import ProfilerActivity, profile as prof

    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        g.synthesize(styles)  # warm-up: oneDNN primitives are built on first use
        with prof(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
            for _ in range(repeat):
                g.synthesize(styles)
    seconds: dict[str, float] = defaultdict(float)
    for event in p.key_averages(group_by_input_shape=True):
        seconds[classify(event.key, event.input_shapes)] += event.self_cpu_time_total / 1e6 / repeat
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    g = Generator(args.size, 512, 8, channel_multiplier=2).eval()
    styles = g.styles(torch.randn(args.batch, 512))
    table = {label: profile(g, styles, bf16, args.repeat) for label, bf16 in (("fp32", False), ("bf16", True))}
    totals = {label: sum(t.values()) for label, t in table.items()}
    print(f"{args.size} px, batch {args.batch}, {torch.get_num_threads()} threads: self CPU seconds per call "
          f"(mean of {args.repeat}) and share")
    print(f"| {'kind':28s} | {'fp32 s':>7s} | {'share':>6s} | {'bf16 s':>7s} | {'share':>6s} |")
    print(f"| {'-' * 28} | {'-' * 7} | {'-' * 6} | {'-' * 7} | {'-' * 6} |")
    for kind in KINDS:
        f, b = table["fp32"].get(kind, 0.0), table["bf16"].get(kind, 0.0)
        print(f"| {kind:28s} | {f:7.3f} | {f / totals['fp32']:6.1%} | {b:7.3f} | {b / totals['bf16']:6.1%} |")
    print(f"| {'total':28s} | {totals['fp32']:7.3f} | {1:6.1%} | {totals['bf16']:7.3f} | {1:6.1%} |")


if __name__ == "__main__":
    main()
