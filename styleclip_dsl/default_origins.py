"""Where the parameters a recipe leaves out come from, for `plan`, `run --dry-run` and the REPL's
``:plan``: the model set's ``engine_defaults`` (its YAML) or the engine's own defaults
(``styleclip_dsl/engines/``), the set's values for the edit's own prompt listed apart. The compiler records it per edit (``EditEntry.origins``); it is not
part of the plan's JSON or its hashes."""
from __future__ import annotations

from .plan import EditStep, JsonValue, Plan


def _value(value: JsonValue) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def default_origin_lines(plan: Plan) -> list[str]:
    """One line per engine the plan uses, naming the defaults it took and where from, e.g.
    ``global: alpha=3.0 from model set toon; beta=0.15 layers=all from the engine``. A parameter
    some edits set and others leave out is listed (it is a default somewhere)."""
    taken: dict[str, dict[str, dict[str, JsonValue]]] = {}
    for step in plan.steps:
        if not isinstance(step, EditStep):
            continue
        for entry in step.edits:
            for name, origin in entry.origins.items():
                # a prompt's own defaults are listed under the prompt, the rest under the engine
                label = f"{step.engine} {entry.text!r}" if origin == "prompt" else step.engine
                by_origin = taken.setdefault(label, {"prompt": {}, "modelset": {}, "engine": {}})
                by_origin[origin].setdefault(name, entry.params[name])
    lines = []
    for label, by_origin in taken.items():
        parts = []
        for origin, source in (("prompt", f"from model set {plan.modelset} for this prompt"),
                               ("modelset", f"from model set {plan.modelset}"), ("engine", "from the engine")):
            if by_origin[origin]:
                values = " ".join(f"{k}={_value(v)}" for k, v in sorted(by_origin[origin].items()))
                parts.append(f"{values} {source}")
        if parts:
            lines.append(f"{label}: " + "; ".join(parts))
    return lines
