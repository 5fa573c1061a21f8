"""Full-size e4e and ArcFace forward passes (random weights), against a plain conv baseline.

    python bench/bench_encoder.py [--repeat R] [--batch B] [--device cpu|cuda]

Baseline: one 3x3 convolution, 512 -> 512 channels on a 64x64 map, the
layer that dominates e4e's fine style blocks. Reported: best of R runs for
e4e (IR-SE50 + 18 style blocks, 256 px input), for the identity network
(1024 px input: pool, crop, IR-SE50 at 112 px) and their ratios to the
baseline, plus the time to load a strict official-layout state dict.
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import torch

from styleclip_runtime.models.arcface import ArcFaceBackbone, IdentityNet
from styleclip_runtime.models.e4e import E4EConfig, Encoder4Editing, e4e_from_checkpoint


def best_of(fn: Callable[[], object], repeat: int, sync: Callable[[], None]) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(0)

    conv = torch.nn.Conv2d(512, 512, 3, 1, 1).to(dev)
    fmap = torch.randn(args.batch, 512, 64, 64, device=dev)
    encoder = Encoder4Editing(E4EConfig()).to(dev).eval()
    ident = IdentityNet(ArcFaceBackbone()).to(dev)
    x256 = torch.rand(args.batch, 3, 256, 256, device=dev) * 2 - 1
    x1024 = torch.rand(args.batch, 3, 1024, 1024, device=dev) * 2 - 1

    with torch.no_grad():
        base = best_of(lambda: conv(fmap), args.repeat, sync)
        t_e4e = best_of(lambda: encoder(x256), args.repeat, sync)
        t_id = best_of(lambda: ident.embed(x1024), args.repeat, sync)
    state = {f"encoder.{k}": v.cpu() for k, v in encoder.state_dict().items()}
    ckpt = {"state_dict": state, "latent_avg": torch.zeros(18, 512), "opts": {"stylegan_size": 1024}}
    t0 = time.perf_counter()
    e4e_from_checkpoint(ckpt)
    t_load = time.perf_counter() - t0

    print(f"device {dev}, batch {args.batch}, threads {torch.get_num_threads()}, best of {args.repeat}")
    print(f"baseline conv 512->512 3x3 @64x64: {base * 1e3:8.1f} ms")
    print(f"e4e forward @256:                  {t_e4e * 1e3:8.1f} ms  ({t_e4e / base:5.1f}x baseline)")
    print(f"identity embed @1024:              {t_id * 1e3:8.1f} ms  ({t_id / base:5.1f}x baseline)")
    print(f"e4e strict load (in memory):       {t_load * 1e3:8.1f} ms  ({t_load / base:5.1f}x baseline)")


if __name__ == "__main__":
    main()
