"""Output paths: how placeholders are filled, which paths are refused, and which collide.

One module for the front end and the runtime (torch-free, lark-free), so that
``styleclip check`` and ``styleclip run`` agree on what a path means:

- ``fill`` puts item labels into a path template; a text value becomes a
  slug (``'curly hair'`` -> ``curly_hair``) that is never ``.`` or ``..``.
- ``path_problem`` says why a template (or a filled path) may not be written:
  absolute paths and ``..`` components leave the output folder.
- ``golden_path_problem`` / ``golden_link_problem`` say why a ``golden('...')``
  path may not be used: golden images are read, and with ``--update-golden``
  written, inside the recipe's folder; an absolute path, ``..``, or a
  symbolic link on the way (once the folder is known) leaves it.
- ``plan_output_diagnostics`` finds, in a compiled plan, the saves and exports
  that would write one file twice (different steps whose filled paths agree,
  e.g. ``{text}`` values that slug alike), and the saves that write into a
  folder the recipe reads its photos from. Only what is known before running
  is reported; the runtime numbers the files of a collision it could not
  foresee (see ``styleclip_runtime.io.outputs.OutputGuard``).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .diagnostics import Diagnostic
from .naming import is_glob
from .spans import Span

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Unknown:
    """A label value that is only known at run time (a glob's file names): it fills as
    ``{label}`` in messages and equals only the same label of the same source step."""

    label: str
    source: str


def slug(value: object) -> str:
    """A label value as one safe path component: floats as ``%g``, runs of other characters
    than letters, digits and ``._+-`` as ``_``; never empty, ``.`` or ``..``."""
    if isinstance(value, float):
        return f"{value:g}"
    text = _UNSAFE.sub("_", str(value)).strip("_")
    if not text.strip("."):
        return "_" if not text else "_" * len(text)
    return text


def fill(template: str, labels: dict) -> str:
    """``template`` with each known ``{label}`` replaced (unknown ones stay as written)."""
    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key not in labels:
            return m.group(0)
        value = labels[key]
        if isinstance(value, Unknown):
            return f"\x00{value.label}@{value.source}\x00"
        return slug(value)
    return _PLACEHOLDER.sub(sub, template)


def shown(path: str) -> str:
    """A statically filled path as the user reads it (unknown labels as ``{label}``)."""
    return re.sub(r"\x00([A-Za-z_]+)@[^\x00]*\x00", r"{\1}", path)


def path_problem(path: str) -> str | None:
    """Why ``path`` (a template or a filled path) would write outside the output folder, or None."""
    text = path.replace("\\", "/")
    if text.startswith(("/", "~")) or _WINDOWS_DRIVE.match(text):
        return f"'{path}' is an absolute path; outputs are written inside the output folder (--out)"
    if ".." in PurePosixPath(text).parts:
        return f"'{path}' climbs out with '..'; outputs are written inside the output folder (--out)"
    return None


GOLDEN_HINT = "keep golden images in the recipe's folder, e.g. golden('golden/{name}.png')"


def golden_path_problem(path: str) -> str | None:
    """Why ``golden(path)`` leaves the recipe's folder as written (absolute, or ``..``), or None."""
    text = path.replace("\\", "/")
    if text.startswith(("/", "~")) or _WINDOWS_DRIVE.match(text):
        return f"golden image '{path}' is an absolute path; golden images are read and written in the recipe's folder"
    if ".." in PurePosixPath(text).parts:
        return f"golden image '{path}' climbs out of the recipe's folder with '..'"
    return None


def golden_link_problem(path: str, recipe_dir: Path) -> str | None:
    """Why ``golden(path)`` (or a filled golden path), relative to ``recipe_dir``, resolves outside it
    through a symbolic link (``--update-golden`` would write there), or None. Placeholders are not
    known yet: the folders before the first one are resolved (the runtime checks each filled path)."""
    problem = golden_path_problem(path)
    if problem is not None:
        return problem
    parts = PurePosixPath(path.replace("\\", "/")).parts
    fixed: list[str] = []
    for part in parts:
        if _PLACEHOLDER.search(part) or "\x00" in part:
            break
        fixed.append(part)
    root = Path(recipe_dir).resolve()
    target = root.joinpath(*fixed).resolve()
    if target == root or target.is_relative_to(root):
        return None
    return (f"golden image '{path}' resolves to {target}, outside the recipe's folder {root} "
            "(through a symbolic link)")


# ---------------------------------------------------------------------------
# Static analysis of a compiled plan (its JSON form).

@dataclass(frozen=True)
class Write:
    step: str
    kind: str
    path: str          # filled as far as statically known, relative to the output folder
    span: Span


def _span(step: dict) -> Span:
    s = step.get("span") or {}
    return Span(s.get("line", 0), s.get("column", 0), s.get("end_line", 0), s.get("end_column", 0))


def _source_items(step: dict) -> list[dict]:
    params, sid, subject = step.get("params") or {}, step["id"], step.get("subject", "")
    if step.get("op") == "generate":
        return [{"name": f"seed{s}", "subject": subject, "index": i, "step": 0}
                for i, s in enumerate(params.get("seeds") or [])]
    paths = params.get("paths") or []
    if step.get("op") == "invert" and paths and not any(is_glob(p) for p in paths):
        return [{"name": PurePosixPath(p.replace("\\", "/")).stem, "subject": subject, "index": i, "step": 0}
                for i, p in enumerate(paths)]
    return [{"name": Unknown("name", sid), "subject": subject, "index": Unknown("index", sid), "step": 0,
             "_unknown_count": True}]


def _edit_items(step: dict, inputs: list[dict]) -> list[dict]:
    base = {"text": " + ".join(e["text"] for e in step.get("edits") or []), "engine": step.get("engine")}
    sweep = step.get("sweep")
    variants = [{sweep["param"]: v} for v in sweep["values"]] if sweep else [{}]
    edits = max(1, len(step.get("edits") or []))  # a fused step counts each of its edits, as the runtime does
    return [{**item, "step": int(item.get("step", 0)) + edits, **base, **extra, "_root": item.get("_root", id(item))}
            for item in inputs for extra in variants]


def _writes(step: dict, items: list[dict]) -> list[Write]:
    template, kind, mode = step.get("path", ""), step["kind"], step.get("mode", "image")
    if kind == "save" and mode == "grid":
        labels = [{"subject": items[0]["subject"]}] if items else []
    elif kind == "save" and mode != "image":  # one file per source item (animation, video)
        firsts: dict[object, dict] = {}
        for item in items:
            firsts.setdefault(item.get("_root", id(item)), item)
        labels = list(firsts.values())
    else:
        labels = items
    paths = list(dict.fromkeys(str(PurePosixPath(fill(template, lab).replace("\\", "/"))) for lab in labels))
    if kind == "save" and mode == "image" and len(paths) < len(labels):
        return []  # several items on one file: the checker's E-overwrite, and the runtime appends names
    if any(lab.get("_unknown_count") for lab in labels) and not any("\x00" in p for p in paths):
        return []  # a glob that may match one file or several: the file names are not known yet
    return [Write(step["id"], kind, p, _span(step)) for p in paths]


def _input_matching(path: str, inputs: list[str]) -> str | None:
    """The input pattern that ``path`` (unknown labels read as any name) is or matches, if any."""
    candidate = re.sub(r"\x00[^\x00]*\x00", "x", path)
    for pattern in inputs:
        if candidate == pattern or (is_glob(pattern) and fnmatch.fnmatchcase(candidate, pattern)):
            return pattern
    return None


def _write_problem(write: Write, first: dict[str, Write], inputs: list[str]) -> tuple[str, str, str, str] | None:
    """(message, hint, severity, code) when ``write`` lands on another step's output or on an input."""
    earlier = first.setdefault(write.path, write)
    if earlier is not write and earlier.step != write.step:
        return (f"'{shown(write.path)}' is also written by the {earlier.kind} on line {earlier.span.line}",
                "give each output its own path (texts that differ only in spaces or punctuation "
                "fill {text} alike); one of the two results would be lost", "error", "E-output-collision")
    hit = _input_matching(write.path, inputs)
    if hit is not None:
        return (f"'{shown(write.path)}' may be the input '{hit}' (when --out is the recipe's folder)",
                "the run refuses to replace a file it reads, and a glob would read the output "
                "next time; save into a folder of its own, e.g. out/", "warning", "W-output-is-input")
    return None


def plan_output_diagnostics(plan: dict, source_name: str) -> list[Diagnostic]:
    """Collisions between saves/exports of different steps, and saves into an input folder
    (one diagnostic per step at most)."""
    items: dict[str, list[dict]] = {}
    first: dict[str, Write] = {}
    inputs: list[str] = []
    out: list[Diagnostic] = []
    for step in plan.get("steps") or []:
        kind = step.get("kind")
        if kind == "source":
            items[step["id"]] = _source_items(step)
            params = step.get("params") or {}
            inputs += [p.replace("\\", "/") for p in params.get("paths") or [params.get("path") or ""] if p]
        elif kind == "edit":
            items[step["id"]] = _edit_items(step, items.get(step.get("input", ""), []))
        elif kind in ("save", "export") and not path_problem(step.get("path", "")):
            for write in _writes(step, items.get(step.get("input", ""), [])):
                problem = _write_problem(write, first, inputs)
                if problem is not None:
                    message, hint, severity, code = problem
                    out.append(Diagnostic(message, hint, write.span, source_name, severity, code))
                    break
    return out
