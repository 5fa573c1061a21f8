"""A fake executor with the real executor's contract (styleclip_dsl.executor_api.ExecutorAPI:
run incrementally by step hash, stop(), result(hash), stats(); StepError / Interrupted), cheap
enough for unit tests of the REPL session. Its memo and the steps it ran are its own (the session
sees them only through the protocol). Saves write a small file holding the
recipe text they were run with, so tests can see which text stamped them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from styleclip_dsl.executor_api import ExecutorStats
from styleclip_runtime.execution.errors import Interrupted, StepError
from styleclip_runtime.execution.state import Item


class FakeGenerator:
    """styles(w) -> [w]; synthesize -> a 4x4 image whose colour is the mean of the code (per item)."""

    layout: list = []
    size = 4  # px: its images' side (state.render_chunk reads it)

    def styles(self, wplus: torch.Tensor) -> list[torch.Tensor]:
        return [wplus]

    def synthesize(self, styles: list[torch.Tensor], path: str = "fast") -> torch.Tensor:
        level = styles[0].mean(dim=(1, 2)).clamp(-1, 1)
        return level[:, None, None, None].expand(-1, 3, 4, 4).clone()


@dataclass
class FakeSpec:
    name: str = "fake"
    description: str = "a fake model set"
    source: Path = Path("/models/fake.yaml")
    generator: object = "g"
    encoder: object = None
    clip: object = "c"
    identity: object = None
    judge: object = None


class FakeModelSet:
    def __init__(self, mappers: list[str]) -> None:
        self.spec = FakeSpec()
        self._mappers = mappers

    def mapper_prompts(self) -> list[str]:
        return list(self._mappers)


@dataclass
class FakeCacheInfo:
    root: Path = Path("/cache/results")
    entries: int = 3
    total_bytes: int = 2048
    by_kind: dict = field(default_factory=lambda: {"direction": (3, 2048)})
    max_bytes: int = 1 << 30


class FakeCache:
    def info(self) -> FakeCacheInfo:
        return FakeCacheInfo()


class FakeModels:
    def __init__(self, name: str, device: str | None) -> None:
        self.name = name
        self.device = device or "cpu"
        self.modelset = FakeModelSet(["smile"])
        self.cache = FakeCache()
        self.generator = FakeGenerator()
        self.clip = "clip"


@dataclass
class FakeReport:
    outputs: list[Path] = field(default_factory=list)
    expectations: list = field(default_factory=list)

    @property
    def failed_expectations(self) -> list:
        return [e for e in self.expectations if not e]


class FakeExecutor:
    """Edits whose text is 'boom' fail; 'slow' ones are interrupted; expect ops '<' fail."""

    def __init__(self, modelset: str, device: str | None, events) -> None:
        self.key = (modelset, device)
        self.events = events
        self.models = FakeModels(modelset, device)
        self._memo: dict[str, list[Item]] = {}
        self._done: set[str] = set()
        self.stops = 0              # calls of stop(), for tests
        self.runs: list[dict] = []  # what each run ran, for tests
        self.written: set[Path] = set()  # files its saves wrote: others are replaced only with overwrite

    def stop(self) -> None:
        self.stops += 1

    def result(self, step_hash: str) -> list[Item] | None:
        return self._memo.get(step_hash)

    def stats(self) -> ExecutorStats:
        return ExecutorStats(self.models.cache.info(), len(self._memo), len(self._done))

    def explain(self, plan, base_dir: Path):
        raise NotImplementedError("the fake has no model set to explain with: tests replace Session.explain")

    def run(self, plan: dict, recipe_text: str, base_dir: Path, out_dir: Path, update_golden: bool = False,
            write_manifest: bool = True, incremental: bool = False, rerun=(), overwrite: bool = False) -> FakeReport:
        report = FakeReport()
        ran: list[str] = []
        self.runs.append({"ran": ran, "text": recipe_text, "incremental": incremental, "overwrite": overwrite})
        by_id = {s["id"]: s for s in plan["steps"]}
        for step in plan["steps"]:
            if incremental and step["hash"] in self._done and step["hash"] not in rerun:
                continue
            line = step["span"]["line"]
            self.events({"event": "step_start", "id": step["id"], "kind": step["kind"], "line": line,
                         "label": step["kind"]})
            kind = step["kind"]
            if kind == "source":
                seeds = step["params"].get("seeds", [0])
                self._memo[step["hash"]] = [Item(f"seed{s}", step["subject"], i, torch.full((2, 3), s / 10.0))
                                           for i, s in enumerate(seeds)]
            elif kind == "edit":
                text = step["edits"][0]["text"]
                if text == "boom":
                    raise StepError("the engine blew up", step, hint="try another prompt")
                if text == "slow":
                    raise Interrupted()
                alpha = float(step["edits"][0]["params"].get("alpha", 1.0))
                inputs = self._memo[by_id[step["input"]]["hash"]]
                self._memo[step["hash"]] = [it.derive(wplus=it.wplus + alpha / 10.0) for it in inputs]
            elif kind == "save":
                path = out_dir / step["path"]
                if path.exists() and path not in self.written and not overwrite:  # as outputs.OutputGuard
                    raise StepError(f"{path} exists and styleclip did not write it", step, hint="--overwrite")
                self.written.add(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(recipe_text)
                report.outputs.append(path)
            elif kind == "expect":
                report.expectations.append(step["op"] != "<")
            ran.append(step["id"])
            self._done.add(step["hash"])
            self.events({"event": "step_end", "id": step["id"], "kind": step["kind"], "line": line, "seconds": 0.0})
        return report


class FakeFactory:
    """Makes FakeExecutors and remembers them."""

    def __init__(self) -> None:
        self.made: list[FakeExecutor] = []

    def __call__(self, modelset: str, device: str | None, events) -> FakeExecutor:
        executor = FakeExecutor(modelset, device, events)
        self.made.append(executor)
        return executor
