"""Hostile and careless use, counted: issue #20 items 3-6 as "tried / bad" (docs/reliability.md).

Every case runs on the embedded toon set, CPU, in this process (a few in a
subprocess), in a fresh folder, and is judged by what it did on disk and
what it said, not by how it said it:

- item 3, outputs: hostile output paths (absolute, ``..``, symbolic links,
  ``{text}`` and ``{name}`` values that climb, an input photo, the recipe, a
  foreign file, collisions). Bad: a byte changed outside the output folder,
  an input / the recipe / a foreign file replaced, two results on one file,
  or an exception that is not a located error.
- item 4, models: one byte flipped in each pinned file of a copy of toon.
  Bad: the run that uses it succeeds, its error does not name the file, or
  the set's fingerprint keeps the pinned digest.
- item 5, cache: every entry a run filed, damaged four ways (payload that
  passes the checksum but does not decode, truncated, empty, a folder).
  Bad: the rerun fails or writes different pixels.
- item 6, files: hostile or broken latent files, mapper training states,
  judge and statistics files, a decompression-bomb PNG, a FIFO as a photo.
  Bad: a traceback, a hang, an error that does not name the file, or one
  that advises ``weights_only=False``.

    nice python bench/bench_hostile.py
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PHOTO = ROOT / "recipes" / "photos" / "ada.png"


@dataclass
class Tally:
    item: str
    tried: int = 0
    bad: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def case(self, name: str, problem: str | None) -> None:
        self.tried += 1
        self.names.append(name)
        if problem:
            self.bad.append(f"{name}: {problem}")

    def line(self) -> str:
        return f"item {self.item}: tried {self.tried}, bad {len(self.bad)}" + "".join(f"\n    {b}" for b in self.bad)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/styleclip-bench-pwned",))


def _tree(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = Path(dirpath) / name
            st = p.lstat()
            data = b"" if p.is_symlink() or not p.is_file() else p.read_bytes()
            out[str(p.relative_to(root))] = (st.st_size, hashlib.sha256(data).hexdigest())
    return out


def _run(executor, text: str, recipe: Path, out: Path, **kw):
    """(plan ran?, report or None, message): a check error and a StepError are clean refusals."""
    from styleclip_dsl.api import compile_recipe
    from styleclip_runtime.execution.errors import StepError

    plan, diagnostics = compile_recipe(text, str(recipe))
    if plan is None:
        return False, None, "; ".join(d.message for d in diagnostics if d.is_error)
    try:
        return True, executor.run(json.loads(plan.to_json()), text, recipe.parent, out, recipe_path=recipe, **kw), ""
    except StepError as exc:
        return False, None, exc.message


# -- item 3 ---------------------------------------------------------------------------------------
def outputs(work: Path, executor) -> Tally:
    from styleclip_runtime.io.latents import LatentBatch, save_latents
    from styleclip_runtime.io.outputs import encode_png

    tally = Tally("3 (outputs confined, nothing overwritten)")
    g = executor.models.generator
    def gen(text: str = "smile") -> str:
        return f"generate seed=1 as s\nglobal '{text}' alpha=1\n"

    cases = {
        "absolute": gen() + "save {outside}/x.png\n",
        "home": gen() + "save ~/x.png\n",
        "dotdot": gen() + "save ../outside/x.png\n",
        "dotdot deep": gen() + "save a/../../outside/x.png\n",
        "folder link": gen() + "save link/x.png\n",
        "folder link placeholder": gen() + "save link/{{name}}.png\n",
        "file link": gen() + "save linked.png\n",
        "export dotdot": gen() + "export latent ../outside/x.pt\n",
        "export link": gen() + "export latent link/x.pt\n",
        "text '..' as folder": gen("..") + "save {{text}}/x.png\n",
        "text climbing": gen("../../outside/x") + "save {{text}}.png\n",
        "text '.'": gen(".") + "save {{text}}/{{text}}.png\n",
        "export text '..'": gen("..") + "export latent {{text}}/x.pt\n",
        "latent names climbing": "load evil_names.pt as s\nsave {{name}}.png\n",
        "input photo": "invert photos/ada.png\nglobal 'smile'\nsave photos/{{name}}.png\n",
        "input photo by glob": "invert photos/*.png\nglobal 'smile'\nsave photos/{{name}}.png\n",
        "input photo as grid": "invert photos/ada.png\nglobal 'smile'\nsave grid photos/ada.png\n",
        "recipe": gen() + "save r.sc\n",
        "recipe named .png": "@recipe=r.png\n" + gen() + "save r.png\n",
        "foreign file": gen() + "save foreign.png\n",
        "foreign file as grid": gen() + "save grid foreign.png\n",
        "two saves one path": gen() + "save x.png\nsave x.png\n",
        "texts that slug alike": ("generate seed=1 as s\nglobal 'curly hair'\nsave {{text}}.png\n"
                                  "global 'curly_hair'\nsave {{text}}.png\n"),
        "seeds that overlap": "generate seeds=1..2 as a\nsave {{name}}.png\ngenerate seeds=2..3 as b\nsave {{name}}.png\n",
        "glob stems that collide": ("invert photos/*.png as a\nsave g/{{name}}.png\n"
                                    "invert photos2/*.png as b\nsave g/{{name}}.png\n"),
    }
    for i, (name, body) in enumerate(cases.items()):
        root = work / "o3" / f"c{i}"
        out, outside = root / "out", root / "outside"
        (out / "photos").mkdir(parents=True)
        (out / "photos2").mkdir()
        outside.mkdir()
        shutil.copy(PHOTO, out / "photos" / "ada.png")
        shutil.copy(PHOTO, out / "photos2" / "ada.png")
        (outside / "sentinel.png").write_bytes(b"outside")
        (out / "link").symlink_to(outside)
        (out / "linked.png").symlink_to(outside / "sentinel.png")
        (out / "foreign.png").write_bytes(encode_png(np.zeros((4, 4, 3), np.uint8)))
        save_latents(out / "evil_names.pt", LatentBatch(g.mean_latent(2, seed=0).expand(2, g.n_latent, -1).cpu(),
                                                        ["../../outside/x", "/etc/x"]))
        recipe_name = "r.sc"
        if body.startswith("@recipe="):
            recipe_name, body = body[len("@recipe="):].split("\n", 1)
        text = body.format(outside=outside)
        recipe = out / recipe_name
        recipe.write_text(text)
        before = _tree(root)
        problem = None
        try:
            ran, report, _ = _run(executor, text, recipe, out)
        except Exception as exc:  # anything but a located error is bad
            ran, report, problem = False, None, f"raised {type(exc).__name__}: {exc}"
        after = _tree(root)
        for rel, sig in after.items():
            if rel.startswith("outside/") and before.get(rel) != sig:
                problem = f"wrote {rel}"
        for rel in ("out/photos/ada.png", "out/photos2/ada.png", f"out/{recipe_name}", "out/foreign.png",
                    "outside/sentinel.png", "out/linked.png"):
            if before.get(rel) != after.get(rel):
                problem = f"replaced {rel}"
        if ran and report is not None:
            paths = [str(Path(p).resolve()) for p in report.outputs]
            if len(set(paths)) != len(paths):
                problem = "two results written to one file"
        tally.case(name, problem)
    return tally


# -- item 4 ---------------------------------------------------------------------------------------
def models(work: Path) -> Tally:
    import yaml

    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.execution.build_executor import open_executor

    tally = Tally("4 (a changed model file is refused)")
    source = ROOT / "runtime" / "modelsets"
    spec = yaml.safe_load((source / "toon.yaml").read_text())
    uses = {"generator": "generate seed=1\nsave x.png\n",
            "encoder": "invert photos/ada.png\nsave x.png\n",
            "clip": "generate seed=1\nglobal 'a tiny red hat' alpha=2\nsave x.png\n",
            "judge": "generate seed=1\nexpect attribute('glasses') == 'none'\n",
            "global_stats:stats": "generate seed=1\nglobal 'smile' alpha=2\nsave x.png\n",
            "mapper:smile": "generate seed=1\nmapper 'smile'\nsave x.png\n",
            "mapper:beard": "generate seed=1\nmapper 'beard'\nsave x.png\n"}
    for role, body in uses.items():
        case = work / "m4" / role.replace(":", "_")
        shutil.copytree(source / "toon", case / "toon")
        (case / "toon.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        os.environ["STYLECLIP_CACHE"] = str(case / "cache")
        ms = ModelSet.load(case / "toon.yaml")
        f = next(x for x in ms.spec.files() if x.role == role)
        path = ms.path(f)  # verified intact, and recorded
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        (case / "photos").mkdir()
        shutil.copy(PHOTO, case / "photos" / "ada.png")
        (case / "r.sc").write_text(body)
        executor = open_executor(str(case / "toon.yaml"), "cpu")
        problem = None
        try:
            ran, report, message = _run(executor, body, case / "r.sc", case / "out")
            if ran:
                problem = "the run used the changed file"
            elif path.name not in message:
                problem = f"the error does not name {path.name}: {message[:120]}"
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        if ModelSet.load(case / "toon.yaml").fingerprints()[role] == f.sha256:
            problem = "the pinned digest still keys the cache"
        tally.case(role, problem)
    return tally


# -- item 5 ---------------------------------------------------------------------------------------
def cache(work: Path) -> Tally:
    from styleclip_runtime.cache.result_cache import _wrap
    from styleclip_runtime.execution.build_executor import open_executor

    tally = Tally("5 (a damaged cache entry is recomputed)")
    case = work / "c5"
    (case / "photos").mkdir(parents=True)
    shutil.copy(PHOTO, case / "photos" / "ada.png")
    os.environ["STYLECLIP_CACHE"] = str(case / "cache")
    body = ("invert photos/ada.png\nglobal 'a tiny red hat' alpha=2\nsave a.png\n"
            "then optimize 'beard' space=s beta=0.15 steps=2\nsave b.png\n")
    recipe = case / "r.sc"
    recipe.write_text(body)
    _run(open_executor("toon", "cpu"), body, recipe, case / "out")
    reference = {n: (case / "out" / n).read_bytes() for n in ("a.png", "b.png")}
    entries = sorted((case / "cache").rglob("*.entry"))
    damages = {"undecodable": lambda p: p.write_bytes(_wrap(b"checksum fine, payload not")),
               "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
               "empty": lambda p: p.write_bytes(b""),
               "folder": lambda p: (p.unlink(), p.mkdir(), (p / "x").write_bytes(b"x"))}
    for entry in entries:
        kind = entry.parent.parent.name
        for how, damage in damages.items():
            if not entry.exists():
                continue
            saved = entry.read_bytes() if entry.is_file() else None
            damage(entry)
            problem = None
            try:
                ran, _, message = _run(open_executor("toon", "cpu"), body, recipe, case / "out")
                if not ran:
                    problem = f"rerun failed: {message[:120]}"
                elif any((case / "out" / n).read_bytes() != b for n, b in reference.items()):
                    problem = "rerun wrote different pixels"
            except Exception as exc:
                problem = f"raised {type(exc).__name__}: {exc}"
            tally.case(f"{kind} {how}", problem)
            if entry.is_dir():
                shutil.rmtree(entry)
            if saved is not None and not entry.exists():
                entry.write_bytes(saved)
    return tally


# -- item 6 ---------------------------------------------------------------------------------------
def files(work: Path) -> Tally:
    import torch
    from typer.testing import CliRunner

    from styleclip_dsl.cli import app
    from styleclip_runtime.engines.mapper import MapperTraining, read_training_state
    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_runtime.execution.build_executor import open_executor
    from styleclip_runtime.execution.warm import _load_shipped_stats
    from styleclip_runtime.models.judge import load_judge

    tally = Tally("6 (hostile and broken files: clear errors)")
    case = work / "f6"
    case.mkdir()
    os.environ["STYLECLIP_CACHE"] = str(case / "cache")
    executor = open_executor("toon", "cpu")
    g = executor.models.generator
    codes = {f"{n}.png": np.zeros((g.n_latent, g.config.style_dim), np.float32) for n in ("a", "b")}

    def evil_npy(p: Path) -> None:
        with open(p, "wb") as fh:
            np.save(fh, np.array([_Evil()], dtype=object), allow_pickle=True)

    latents = {
        "evil.pt": lambda p: torch.save({"wplus": _Evil()}, p),
        "truncated.pt": lambda p: (torch.save({"wplus": torch.zeros(1, g.n_latent, g.config.style_dim)}, p),
                                   p.write_bytes(p.read_bytes()[:300])),
        "list.pt": lambda p: torch.save([1, 2, 3], p),
        "empty.pt": lambda p: p.write_bytes(b""),
        "restyle.npy": lambda p: np.save(p, codes, allow_pickle=True),
        "evil.npy": evil_npy,
        "cut_dict.npy": lambda p: (np.save(p, codes, allow_pickle=True), p.write_bytes(p.read_bytes()[:200])),
        "shape.npy": lambda p: np.save(p, np.zeros((3, 7), np.float32)),
        "pickled.npz": lambda p: np.savez(p, w=np.array([{"a": 1}], dtype=object)),
    }
    for name, make in latents.items():
        path = case / name
        make(path)
        body = f"load {name} as s\nsave {Path(name).stem}.png\n"
        (case / "r.sc").write_text(body)
        problem = None
        try:
            ran, _, message = _run(executor, body, case / "r.sc", case / "out")
            if name == "restyle.npy":
                problem = None if ran else f"a ReStyle dict did not load: {message[:120]}"
            elif ran:
                problem = "loaded"
            elif name not in message or "weights_only" in message:
                problem = f"unclear: {message[:160]}"
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        tally.case(f"latent {name}", problem)
    if Path("/tmp/styleclip-bench-pwned").exists():
        tally.case("pickle executed code", "a pickle ran code")

    config = MapperTraining(steps=2, batch=2)
    states = {"evil": lambda p: torch.save({"mapper": _Evil()}, p), "truncated": lambda p: p.write_bytes(b"PK\x03\x04"),
              "list": lambda p: torch.save([1], p), "keys": lambda p: torch.save({"step": 1}, p),
              "other run": lambda p: torch.save({"mapper": {}, "optimizer": {}, "rng": torch.zeros(1), "step": 1,
                                                 "text": "sad", "config": {}}, p)}
    for name, make in states.items():
        path = case / f"{name.replace(' ', '_')}.training.pt"
        make(path)
        try:
            read_training_state(path, "smile", config)
            problem = "accepted"
        except ValueError as exc:
            problem = None if path.name in str(exc) and "weights_only" not in str(exc) else f"unclear: {exc}"
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        tally.case(f"training state {name}", problem)

    toon = ModelSet.load("toon")
    judge_config = toon.path(toon.spec.judge.file).with_name("judge_config.json")
    broken = {"judge truncated": ("judge.safetensors", lambda p: p.write_bytes(
                  toon.path(toon.spec.judge.file).read_bytes()[:5000])),
              "judge garbage": ("judge2.safetensors", lambda p: p.write_bytes(b"garbage")),
              "stats truncated": ("stats.safetensors", lambda p: p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")),
              "official stats pickle": ("S_mean_std", lambda p: p.write_bytes(pickle.dumps(_Evil())))}
    for name, (fname, make) in broken.items():
        path = case / fname
        make(path)
        try:
            if name.startswith("judge"):
                shutil.copy(judge_config, case / "judge_config.json")
                load_judge(path)
            elif name.startswith("stats"):
                _load_shipped_stats({"stats": path}, g.layout)
            else:
                _load_shipped_stats({"s_mean_std": path, "fs3": case / "fs3.npy"}, g.layout)
            problem = "loaded"
        except ValueError as exc:
            problem = None if fname in str(exc) else f"does not name the file: {exc}"
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        tally.case(name, problem)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    (case / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
                                   + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))
    (case / "big.sc").write_text("invert big.png\nglobal 'smile'\nsave out/{name}.png\n")
    for command in (["plan", str(case / "big.sc"), "--explain"], ["run", str(case / "big.sc"), "-o", str(case / "o")]):
        result = CliRunner().invoke(app, command)
        flat = (result.output or "").replace("\n", "")
        ok = result.exit_code == 3 and "big.png" in flat and "Traceback" not in flat
        tally.case(f"{command[0]} on a 30000x30000 PNG", None if ok else f"exit {result.exit_code}: {flat[-160:]}")

    os.mkfifo(case / "fifo.png")
    (case / "fifo.sc").write_text("invert fifo.png\nsave out/{name}.png\n")
    try:
        proc = subprocess.run([sys.executable, "-m", "styleclip_dsl.cli", "run", str(case / "fifo.sc"), "-o",
                               str(case / "o"), "-q"], capture_output=True, text=True, timeout=120)
        problem = None if proc.returncode == 3 and "fifo.png" in proc.stderr else f"exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        problem = "hung"
    tally.case("run with a FIFO as the photo", problem)
    return tally


def main() -> None:
    from styleclip_runtime.execution.build_executor import open_executor

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["STYLECLIP_CACHE"] = str(work / "cache")
        tallies = [outputs(work, open_executor("toon", "cpu")), models(work), cache(work), files(work)]
    for tally in tallies:
        print(tally.line())
        if "-v" in sys.argv:
            print("    cases: " + ", ".join(tally.names))
    print(f"total: tried {sum(t.tried for t in tallies)}, bad {sum(len(t.bad) for t in tallies)}")


if __name__ == "__main__":
    main()
