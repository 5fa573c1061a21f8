"""A semantic diff of two plans: which steps are the same, which changed and how, which only
rerun because something before them changed, which were added or removed.

Plans, not texts, are compared, so comments, spacing, statement order that
compiles to the same steps, and spelled-out defaults make no difference.
Two steps with the same content hash give the same result (the runtime
reuses it); the others are paired by what they are (the same subject, the
same engine and texts, the same output path), so that a change reads as
"alpha 2 -> 3" rather than as one step removed and another added.

Works on plan JSON data (``Plan.to_dict()``, or the ``plan`` of a run's
``run.json``), without torch.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

ChangeStatus = Literal["same", "changed", "upstream", "added", "removed"]

#: what each status means, for legends
STATUS_MEANING: dict[str, str] = {
    "same": "same result: reused",
    "changed": "changed: recomputed",
    "upstream": "unchanged itself, recomputed because an input changed",
    "added": "only in the second",
    "removed": "only in the first",
}


@dataclass(frozen=True)
class StepChange:
    status: ChangeStatus
    old: dict[str, Any] | None  # the step in the first plan
    new: dict[str, Any] | None  # the step in the second plan
    details: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def ref(step: dict | None) -> dict | None:
            return None if step is None else {"id": step["id"], "line": step["span"]["line"], "hash": step["hash"]}

        return {"status": self.status, "old": ref(self.old), "new": ref(self.new), "details": list(self.details)}


@dataclass(frozen=True)
class PlanDiff:
    settings: tuple[str, ...]  # "seed 7 -> 8", "model set toon -> ffhq", ...
    steps: tuple[StepChange, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return not self.settings and all(c.status == "same" for c in self.steps)

    def count(self, status: ChangeStatus) -> int:
        return sum(1 for c in self.steps if c.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {"identical": self.identical, "settings": list(self.settings),
                "counts": {s: self.count(s) for s in STATUS_MEANING},
                "steps": [c.to_dict() for c in self.steps], **self.extra}


def diff_plans(old: dict[str, Any], new: dict[str, Any]) -> PlanDiff:
    """Compare two plans (as JSON data). Steps come out in the second plan's order, removed ones last."""
    settings = tuple(
        f"{label} {old.get(key)!r} -> {new.get(key)!r}"
        for key, label in (("modelset", "model set"), ("seed", "seed"), ("device", "device"))
        if old.get(key) != new.get(key))
    pairs = _pair(old["steps"], new["steps"])
    partner_of_old = {o["id"]: new_id for new_id, o in pairs.items() if o is not None}
    changes = []
    for step in new["steps"]:
        partner = pairs.get(step["id"])
        changes.append(_compare(partner, step, partner_of_old, old, new, settings) if partner is not None
                       else StepChange("added", None, step))
    paired_old = {o["id"] for o in pairs.values() if o is not None}
    changes += [StepChange("removed", s, None) for s in old["steps"] if s["id"] not in paired_old]
    return PlanDiff(settings, tuple(changes))


# -- pairing -------------------------------------------------------------------------------------

def _identities(step: dict[str, Any]) -> list[tuple]:
    """Ways of saying which step this is, strictest first."""
    kind = step["kind"]
    if kind == "source":
        return [(kind, "subject", step["subject"]), (kind, "op", step["op"])]
    if kind == "edit":
        texts = tuple(e["text"] for e in step["edits"])
        return [(kind, step["engine"], texts), (kind, "texts", texts)]
    if kind in ("save", "export"):
        return [(kind, "path", step["path"]), (kind, step.get("mode"))]
    return [(kind, step["metric"], tuple(map(str, step["args"]))), (kind, step["metric"])]


def _similar_edit(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The loosest pairing: an edit of the same engine whose text was reworded ('bald' -> 'bald hair'),
    not replaced by another ('bald' -> 'glasses' reads better as one removed, one added)."""
    if old["kind"] != "edit" or new["kind"] != "edit" or old["engine"] != new["engine"]:
        return False
    a, b = [e["text"] for e in old["edits"]], [e["text"] for e in new["edits"]]
    if set(a) <= set(b) or set(b) <= set(a):  # a text added to or dropped from a fused global edit
        return True
    return difflib.SequenceMatcher(None, " + ".join(a), " + ".join(b)).ratio() >= 0.6


def _pair(old_steps: list[dict], new_steps: list[dict]) -> dict[str, dict | None]:
    """new step id -> its partner in the old plan (or None)."""
    free = list(old_steps)
    pairs: dict[str, dict | None] = {}

    def take(match: Callable[[dict], bool]) -> dict | None:
        for candidate in free:
            if match(candidate):
                free.remove(candidate)
                return candidate
        return None

    for step in new_steps:  # first every step whose result is the same
        pairs[step["id"]] = take(lambda o, h=step["hash"]: o["hash"] == h)
    for level in range(2):  # then by identity, strictest level first, across all steps
        for step in new_steps:
            ids = _identities(step)
            if pairs[step["id"]] is None:
                pairs[step["id"]] = take(lambda o, want=ids[level], at=level: _identities(o)[at] == want)
    for step in new_steps:
        if pairs[step["id"]] is None:
            pairs[step["id"]] = take(lambda o, s=step: _similar_edit(o, s))
    return pairs


# -- comparing a pair ----------------------------------------------------------------------------

def _compare(old: dict, new: dict, partner_of_old: dict[str, str], old_plan: dict, new_plan: dict,
             settings: tuple[str, ...]) -> StepChange:
    if old["hash"] == new["hash"]:
        return StepChange("same", old, new)
    details = _content_changes(old, new)
    if "input" in new:
        moved = partner_of_old.get(old.get("input", "")) != new["input"]
        if moved:
            details.append(f"its input is now {_name(new_plan, new['input'])} (was {_name(old_plan, old['input'])})")
        elif not details:
            return StepChange("upstream", old, new, (f"{_name(new_plan, new['input'])} changed",))
    elif not details:  # a source with the same content: the recipe's seed or model set changed
        return StepChange("upstream", old, new, settings or ("the recipe's settings changed",))
    return StepChange("changed", old, new, tuple(details))


def _name(plan: dict, step_id: str) -> str:
    """A step as people know it: its line and what it is."""
    for step in plan["steps"]:
        if step["id"] == step_id:
            if step["kind"] == "source":
                what = f"{step['op']} {step['subject']}"
            elif step["kind"] == "edit":
                what = f"{step['engine']} " + " + ".join(repr(e["text"]) for e in step["edits"])
            else:
                what = step["kind"]
            return f"line {step['span']['line']} ({what})"
    return step_id


def _content_changes(old: dict, new: dict) -> list[str]:
    kind = new["kind"]
    if old["kind"] != kind:
        return [f"was a {old['kind']} step"]
    out: list[str] = []
    if kind == "source":
        out += _field(old, new, "op")
        out += _field(old, new, "subject")
        out += _dict_changes(old["params"], new["params"])
    elif kind == "edit":
        out += _field(old, new, "engine")
        out += _edit_entry_changes(old["edits"], new["edits"])
        out += _sweep_changes(old.get("sweep"), new.get("sweep"))
    elif kind in ("save", "export"):
        out += _field(old, new, "mode") + _field(old, new, "path")
    else:
        for key in ("metric", "args", "kwargs", "op", "value"):
            out += _field(old, new, key)
    return out


def _edit_entry_changes(old: list[dict], new: list[dict]) -> list[str]:
    """Entries (the texts of one step; several when global edits are fused) matched by text."""
    if len(old) == len(new) == 1 and old[0]["text"] != new[0]["text"]:
        return [f"text {old[0]['text']!r} -> {new[0]['text']!r}"] + _dict_changes(old[0]["params"], new[0]["params"])
    before = {e["text"]: e["params"] for e in old}
    after = {e["text"]: e["params"] for e in new}
    out = [f"adds {t!r}" for t in after if t not in before] + [f"drops {t!r}" for t in before if t not in after]
    for text, params in after.items():
        if text in before:
            prefix = f"{text!r}: " if len(new) > 1 else ""
            out += [prefix + c for c in _dict_changes(before[text], params)]
    if not out and [e["text"] for e in old] != [e["text"] for e in new]:
        out.append("the texts are in another order")
    return out


def _field(old: dict, new: dict, key: str) -> list[str]:
    return [] if old.get(key) == new.get(key) else [f"{key} {_show(old.get(key))} -> {_show(new.get(key))}"]


def _dict_changes(old: dict, new: dict) -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            out.append(f"{key} {_show(old.get(key))} -> {_show(new.get(key))}")
    return out


def _sweep_changes(old: dict | None, new: dict | None) -> list[str]:
    if old == new:
        return []
    if old is None:
        return [f"now sweeps {new['param']} over {_show(new['values'])}"]
    if new is None:
        return [f"no longer sweeps {old['param']}"]
    return [f"sweep {old['param']} {_show(old['values'])} -> {new['param']} {_show(new['values'])}"]


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)
