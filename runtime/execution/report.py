"""What a run reports: its outputs, expectations and step timings. Torch-free, so that a run
served from the output cache (``cache_outputs.replay``) reports as a computed one does."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from styleclip_dsl.plan import EditStep, ExpectStep, ExportStep, SaveStep, SourceStep, Step


@dataclass
class ExpectResult:
    step: str
    line: int
    metric: str
    op: str
    target: float | str
    measured: list[tuple[str, float | str]]
    passed: bool
    error: str | None = None
    # per measured item, whether it holds, as the runtime compared it (with several judges, every
    # judge's reading must hold; the text of ``measured`` shows them all); None: not recorded
    item_passed: list[bool] | None = None

    def as_dict(self) -> dict:
        measured = [{"item": n, "value": v} for n, v in self.measured]
        if self.item_passed is not None:
            for m, ok in zip(measured, self.item_passed):
                m["passed"] = ok
        return {"step": self.step, "line": self.line, "metric": self.metric, "op": self.op,
                "target": self.target, "passed": self.passed, "error": self.error, "measured": measured}

    @classmethod
    def from_dict(cls, data: dict) -> "ExpectResult":
        """The inverse of ``as_dict``."""
        measured = data["measured"]
        item_passed = [bool(m["passed"]) for m in measured] if all("passed" in m for m in measured) else None
        return cls(data["step"], int(data["line"]), data["metric"], data["op"], data["target"],
                   [(m["item"], m["value"]) for m in measured], bool(data["passed"]), data.get("error"),
                   item_passed)


@dataclass
class RunReport:
    outputs: list[Path] = field(default_factory=list)
    expectations: list[ExpectResult] = field(default_factory=list)
    timings: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    manifest: Path | None = None
    photos: list[dict] = field(default_factory=list)  # per inverted subject: file, face, alignment (run.json)

    @property
    def failed_expectations(self) -> list[ExpectResult]:
        return [e for e in self.expectations if not e.passed]


def describe(step: Step) -> str:
    """A step in a few words, for progress lines."""
    match step:
        case SourceStep(op="invert", params=p):
            return "invert " + " ".join(p["paths"])
        case SourceStep(op="generate", params=p):
            return f"generate seeds {p['seeds']}"
        case SourceStep(op="load", params=p):
            return f"load {p['path']}"
        case EditStep(engine=engine, edits=entries, sweep=sweep):
            texts = " + ".join(repr(e.text) for e in entries)
            extra = f" sweep {sweep.param} x{len(sweep.values)}" if sweep else ""
            return f"{engine} {texts}{extra}"
        case SaveStep(mode=mode, path=path):
            return f"save {mode} {path}"
        case ExportStep(path=path):
            return f"export latent {path}"
        case ExpectStep():
            return f"expect {step.metric}{tuple(step.args)} {step.op} {step.value!r}"
    raise ValueError(f"unknown step {step!r}")
