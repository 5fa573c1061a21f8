"""Per-engine time per image, in toon and at full size (random weights).

Reported as ratios against a baseline measured in the same run: one plain
synthesis of the same generator (what rendering the unedited image costs),
so the figures say how much each engine adds on top of rendering.

    python bench/bench_engines.py [--full] [--device cpu|cuda] [--batch 4] [--opt-steps 5]
    python bench/bench_engines.py --throughput [--models toon 256 1024] [--batches 1 8 32]
        [--path fast|fused-fp32|fused-bf16] [--engines global mapper] [--warm-once]

Full size: StyleGAN2 1024 (config-f widths), CLIP ViT-B/32 (open_clip, random
weights, no download), 18-layer LevelsMapper, a random fs3 table of 6048 rows.
Optimization is timed per step and projected to its default 300 steps; with
``views=4`` the extra cost of each CLIP copy beyond the first is the model
set's ``optimize_view_per_image`` estimate.

``--throughput`` (#21 item 3): images per second of a global edit and of mapper inference over
many subjects, through the runtime's own ``state.render`` (chunks of 16, fp32, as a run renders),
at each batch size, for toon and for random generators of FFHQ shapes at 256 and 1024 px. The
direction and the mapper are made once (a run caches them); the baseline is batch 1 of the same
engine in the same run, so ``x batch 1`` is what batching gains.
"""
from __future__ import annotations

import argparse
import time

import torch


def timed(fn, repeat: int = 3, warmup: bool = True) -> float:
    if warmup:
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def full_size(device: str):
    import open_clip

    from styleclip_runtime.models.clip_model import ClipModel
    from styleclip_runtime.models.stylegan2 import Generator

    g = Generator(1024, 512, 8, channel_multiplier=2).to(device).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    clip = ClipModel(model.float(), open_clip.get_tokenizer("ViT-B-32"), fingerprint="random", device=device)
    return g, clip


def toon(device: str):
    from styleclip_runtime.models.modelset import ModelSet

    ms = ModelSet.load("toon", device=device)
    return ms.generator, ms.clip


def bench(name: str, g, clip, device: str, batch: int, opt_steps: int) -> None:
    from styleclip_runtime.engines import global_directions as gd
    from styleclip_runtime.engines import optimization as opt
    from styleclip_runtime.engines.mapper import apply_strength
    from styleclip_runtime.models.mapper import LevelsMapper

    torch.manual_seed(0)
    w = gd.sample_wplus(g, batch, seed=1, truncation=0.7).to(device)
    n = sum(l.width for l in g.layout if not l.is_torgb)
    dim = clip.encode_text(["a"]).shape[-1]
    fs3 = torch.nn.functional.normalize(torch.randn(n, dim), dim=-1)
    std = [torch.ones(l.width) for l in g.layout]
    mapper = LevelsMapper(style_dim=g.config.style_dim, n_latent=g.n_latent).to(device).eval()
    text = clip.encode_text(["a face with curly hair"])[0]

    with torch.no_grad():
        base = timed(lambda: g(w))

        def global_edit():
            dt = gd.text_direction(clip, "curly hair", "a face")
            d = gd.direction_from_relevance(gd.relevance(fs3, dt.cpu()), g.layout, std, 0.1)
            g.synthesize(gd.apply_direction(g.styles(w), d, 4.0))

        glob = timed(global_edit)
        mapp = timed(lambda: g(apply_strength(mapper, w, 1.0)))
    step = timed(lambda: opt.optimize(g, clip, w, text, steps=opt_steps), repeat=1) / opt_steps
    seeds = list(range(batch))
    step_views = timed(lambda: opt.optimize(g, clip, w, text, steps=opt_steps, views=4, seeds=seeds),
                       repeat=1) / opt_steps
    rows = [("render (baseline)", base), ("global direction (text -> edit -> render)", glob),
            ("mapper (apply + render)", mapp), ("optimization, one step", step),
            ("optimization, 300 steps (projected)", step * 300),
            ("optimization, one step, views=4", step_views),
            ("  each CLIP view beyond the first", (step_views - step) / 3)]
    print(f"\n{name}: batch {batch} on {device}")
    print(f"{'':45s} {'s/batch':>10s} {'s/image':>10s} {'x render':>9s}")
    for label, secs in rows:
        print(f"{label:45s} {secs:10.4f} {secs / batch:10.4f} {secs / base:9.2f}")


def throughput(name: str, g, device: str, batches: list[int], repeat: int, path: str = "fast",
               engines: tuple[str, ...] = ("global", "mapper"), warm_once: bool = False) -> None:
    """``path``: the synthesis path ``state.render`` takes (a run's is ``WarmModels.synthesis_path``);
    ``warm_once``: only the first batch size gets a warm-up run (the later ones reuse its warm
    weights and kernels; at 1024 px batch 32 a warm-up costs as much as the measurement)."""
    from styleclip_runtime.engines import global_directions as gd
    from styleclip_runtime.engines.mapper import apply_strength
    from styleclip_runtime.models.mapper import LevelsMapper
    from styleclip_runtime.execution.state import Item, render

    torch.manual_seed(0)
    n = sum(l.width for l in g.layout if not l.is_torgb)
    fs3 = torch.nn.functional.normalize(torch.randn(n, 512), dim=-1)
    dt = torch.nn.functional.normalize(torch.randn(512), dim=0)
    direction = gd.direction_from_relevance(gd.relevance(fs3, dt), g.layout, [torch.ones(l.width) for l in g.layout],
                                            0.1)
    mapper = LevelsMapper(style_dim=g.config.style_dim, n_latent=g.n_latent).to(device).eval()
    print(f"\n{name}: images/s through state.render on {device} ({torch.get_num_threads()} threads), "
          f"synthesis path {path}, best of {repeat} after a warm-up"
          + (" (the first batch size only)" if warm_once else ""))
    print(f"| {'engine':8s} | {'batch':>5s} | {'images/s':>9s} | {'x batch 1':>9s} |")
    print(f"| {'-' * 8} | {'-' * 5} | {'-' * 9} | {'-' * 9} |", flush=True)
    for engine in engines:
        base = None
        for k, batch in enumerate(batches):
            w = gd.sample_wplus(g, batch, seed=1, truncation=0.7)
            with torch.no_grad():
                if engine == "global":  # the edit: one StyleSpace offset per item, added in render
                    offsets = gd.offset_of(direction, 4.0, batch)

                    def run():
                        items = [Item(f"s{i}", "bench", i, w[i], [o[i] for o in offsets]) for i in range(batch)]
                        return render(g, items, device, path=path)
                else:  # the edit: the mapper's W+ step, then render
                    def run():
                        moved = apply_strength(mapper, w.to(device), 1.0).cpu()
                        return render(g, [Item(f"s{i}", "bench", i, moved[i]) for i in range(batch)], device,
                                      path=path)

                per_s = batch / timed(run, repeat, warmup=k == 0 or not warm_once)  # no_grad, as a run renders
            base = base or per_s
            print(f"| {engine:8s} | {batch:5d} | {per_s:9.2f} | {per_s / base:9.2f} |", flush=True)


def ffhq_shaped(size: int, device: str):
    from styleclip_runtime.models.stylegan2 import Generator

    torch.manual_seed(0)
    g = Generator(size, 512, 8, channel_multiplier=2).to(device).eval()
    for p in g.parameters():
        p.requires_grad_(False)
    return g


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--throughput", action="store_true", help="images/s of global edits and mapper inference")
    ap.add_argument("--models", nargs="+", default=["toon", "256", "1024"], help="with --throughput")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32], help="with --throughput")
    ap.add_argument("--repeat", type=int, default=2, help="with --throughput")
    ap.add_argument("--path", default="fast", choices=("fast", "fused-fp32", "fused-bf16"),
                    help="with --throughput: the synthesis path of the renders")
    ap.add_argument("--engines", nargs="+", default=["global", "mapper"], help="with --throughput")
    ap.add_argument("--warm-once", action="store_true", help="with --throughput: warm up the first batch size only")
    ap.add_argument("--full", action="store_true", help="also the full-size models (slow on a CPU)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--opt-steps", type=int, default=5)
    args = ap.parse_args()
    if args.throughput:
        for name in args.models:
            g = toon(args.device)[0] if name == "toon" else ffhq_shaped(int(name), args.device)
            label = "toon" if name == "toon" else f"{name} px, FFHQ shapes (random weights)"
            throughput(label, g, args.device, args.batches, args.repeat, args.path, tuple(args.engines),
                       args.warm_once)
        return
    g, clip = toon(args.device)
    bench("toon", g, clip, args.device, args.batch, args.opt_steps)
    if args.full:
        g, clip = full_size(args.device)
        bench("full size (1024 generator, ViT-B/32)", g, clip, args.device, max(1, args.batch // 4),
              max(1, args.opt_steps // 2))


if __name__ == "__main__":
    main()
