"""How well `plan --explain`'s memory estimate matches what autograd keeps.

For generators from 64 px (toon's config) to 1024 px (FFHQ config-f), random
weights, it measures the bytes of the tensors autograd saves for the backward
pass of one W+ -> image forward (``saved_tensors_hooks``; the generator's own
parameters excluded), refits the two constants of
``styleclip_runtime.execution.memory_estimate`` by least squares, and prints each
measurement against the shipped estimate as a ratio.

    python bench/bench_memory.py [--impl fast|reference] [--batch 2] [--no-1024]

The 1024-px generator takes about 3 GB of host memory per image at batch 2.
"""
from __future__ import annotations

import argparse

import torch

CONFIGS = [(64, 0.25, 128, 128), (128, 1, 512, 512), (256, 2, 512, 512), (256, 0.5, 256, 512),
           (512, 1, 512, 512), (1024, 2, 512, 512)]  # size, channel multiplier, channel cap, style dim


def main() -> None:
    from styleclip_runtime.execution import memory_estimate as me
    from styleclip_runtime.models.stylegan2 import Generator

    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", default="fast", choices=("fast", "reference"))
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--no-1024", action="store_true", help="skip the 1024-px generator")
    args = ap.parse_args()
    rows = []
    print(f"{'generator':28s} {'measured':>10s} {'estimate':>10s} {'estimate/measured':>18s}")
    for size, multiplier, cap, style_dim in CONFIGS:
        if size == 1024 and args.no_1024:
            continue
        g = Generator(size, style_dim, 2, channel_multiplier=multiplier, channel_max=cap).eval().set_impl(args.impl)
        for p in g.parameters():
            p.requires_grad_(False)
        measured = me.measure_backward_bytes(g, args.batch)
        estimate = me.generator_backward_bytes(g.config)
        rows.append((me.feature_elements(g.config), me.conv_weights(g.config), measured))
        print(f"{size:4d} px, x{multiplier:<5g} cap {cap:<4d}      {me.format_bytes(measured):>10s} "
              f"{me.format_bytes(estimate):>10s} {estimate / measured:18.3f}")
    a = torch.tensor([[r[0], r[1]] for r in rows], dtype=torch.float64)
    y = torch.tensor([r[2] for r in rows], dtype=torch.float64)
    fit = torch.linalg.lstsq(a, y[:, None]).solution.flatten()
    print(f"refit: {fit[0]:.2f} bytes per feature element, {fit[1]:.2f} per convolution weight "
          f"(shipped: {me.ACTIVATION_BYTES}, {me.MODULATED_WEIGHT_BYTES})")


if __name__ == "__main__":
    main()
