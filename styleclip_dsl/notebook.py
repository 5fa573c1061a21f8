"""The Python / notebook API: recipes run from Python on warm models, results shown inline in Jupyter.

    import styleclip_dsl as sc
    s = sc.Session("toon")
    r = s.run("generate seed=3; global 'smile' alpha=3")
    r.images[0]          # a PIL image
    r                    # in Jupyter: the image (a labelled grid for several, a slider for a sweep)

A ``Session`` is the REPL's session (``repl.session.ReplSession``) without
a terminal: each ``run`` is one entry, checked against everything run
before, compiled, and run incrementally on one warm executor, so the
models load once and only what the entry adds is computed. ``s.recipe``
is the session as a recipe (``s.save(path)`` writes it) and reproduces its
images with ``styleclip run``.

This module imports neither torch nor the runtime at import time: the
runtime loads on the first ``run`` (``import styleclip_dsl`` stays light).
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .defaults import DEFAULT_MODELSET
from .diagnostics import Diagnostic, render_diagnostics
from .repl.session import Outcome, ReplSession
from .repl.tracking import step_for_statement

DISPLAY_MIN_SIZE = 256  # inline images are scaled up (nearest) to at least this many pixels
_ids = itertools.count()


class RecipeError(ValueError):
    """The entry did not run: invalid (``diagnostics`` say why, nothing ran) or failed at run time."""

    def __init__(self, message: str, diagnostics: list[Diagnostic], status: str) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics
        self.status = status


class TrainingRequired(RecipeError):
    """The entry would train a mapper (minutes to hours); ``run(..., train=True)`` proceeds."""


@dataclass
class Result:
    """The latest result of a subject after an entry: its images, labels, and what the entry wrote.

    ``images`` are PIL images at the generator's resolution, ``tensors`` the
    generator's output (B, 3, H, W) in [-1, 1], ``pixels`` HWC uint8 arrays;
    ``labels`` give each image's name and swept value. Items are in the
    runtime's order: per subject item, its sweep variants in order.
    """

    subject: str | None
    items: list[Any]
    outputs: list[Path] = field(default_factory=list)
    expectations: list[Any] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    _models: Any = None
    _tensors: Any = None

    # -- data ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    @property
    def tensors(self) -> Any:
        """The images as the generator made them: a torch tensor (B, 3, H, W) in [-1, 1], on the CPU."""
        if self._tensors is None:
            from styleclip_runtime.execution.state import render

            if not self.items:
                raise ValueError("this result holds no images")
            self._tensors = render(self._models.generator, self.items, self._models.device,  # as `save` renders
                                   path=getattr(self._models, "synthesis_path", "fast")).detach().cpu()
        return self._tensors

    @property
    def pixels(self) -> list[Any]:
        """HWC uint8 numpy arrays, one per image (the bytes a PNG save writes)."""
        from styleclip_runtime.io.outputs import to_uint8

        return list(to_uint8(self.tensors)) if self.items else []

    @property
    def images(self) -> list[Any]:
        """PIL images, one per item and sweep value."""
        from PIL import Image

        return [Image.fromarray(p) for p in self.pixels]

    @property
    def labels(self) -> list[dict[str, Any]]:
        """Per image: name, subject, index, and the swept parameter's value (``{"alpha": 2.0}``)."""
        return [{"name": it.name, "subject": it.subject, "index": it.index, **it.labels} for it in self.items]

    @property
    def sweep(self) -> str | None:
        """The swept parameter's name, or None."""
        from .naming import ITEM_LABEL_KEYS

        keys = [k for it in self.items for k in it.labels if k not in ITEM_LABEL_KEYS]
        return keys[-1] if keys else None

    @property
    def passed(self) -> bool:
        """Every ``expect`` of the entry held."""
        return all(e.passed for e in self.expectations)

    # -- pictures ----------------------------------------------------------------------------
    def grid(self) -> Any:
        """A labelled grid (PIL): a row per subject item, a column per sweep value (or result)."""
        from PIL import Image
        from styleclip_runtime.execution.executor import column_label, group_by_source
        from styleclip_runtime.io.outputs import make_grid

        pixels = self.pixels
        position = {id(it): i for i, it in enumerate(self.items)}
        groups = group_by_source(self.items)
        rows = [[pixels[position[id(it)]] for it in group] for group in groups]
        scale = _scale(pixels[0].shape[1], max(len(r) for r in rows))
        return Image.fromarray(make_grid(rows, [g[0].name for g in groups],
                                         [column_label(it) for it in groups[0]], scale=scale))

    def frames(self) -> list[tuple[str, Any]]:
        """A sweep as (label, PIL image) frames: each frame shows every subject item at one value."""
        from PIL import Image
        from styleclip_runtime.execution.executor import column_label, group_by_source
        from styleclip_runtime.io.outputs import make_grid

        pixels = self.pixels
        position = {id(it): i for i, it in enumerate(self.items)}
        groups = group_by_source(self.items)
        scale = _scale(pixels[0].shape[1], len(groups))
        out = []
        for column in range(min(len(g) for g in groups)):
            cells = [[pixels[position[id(g[column])]] for g in groups]]
            out.append((column_label(groups[0][column]), Image.fromarray(make_grid(cells, scale=scale, pad=0))))
        return out

    def animation(self, path: str | Path | None = None, *, duration: float = 0.4, size: int | None = None,
                  labels: bool = True, pingpong: bool = False) -> bytes:
        """The sweep as an animation (the format of ``path``'s extension: .mp4, .gif, .webp; GIF without
        a path); writes ``path`` when given and returns the bytes."""
        import numpy as np
        from styleclip_runtime.io.animation import AnimationOptions, encode_animation
        from styleclip_runtime.cache.result_cache import atomic_write_bytes

        frames = self.frames()
        suffix = Path(path).suffix if path is not None else ".gif"
        data = encode_animation(suffix, [np.asarray(f) for _, f in frames], [label for label, _ in frames],
                                AnimationOptions(duration, size, labels, pingpong))
        if path is not None:
            atomic_write_bytes(Path(path), data)
        return data

    # -- Jupyter -------------------------------------------------------------------------------
    def _display_image(self) -> Any:
        if len(self.items) == 1:
            image = self.images[0]
            factor = _scale(image.width, 1)
            from PIL import Image

            return image.resize((image.width * factor, image.height * factor), Image.NEAREST)
        return self.grid()

    def _repr_png_(self) -> bytes | None:
        if not self.items:
            return None
        return _png(self._display_image())

    def _repr_html_(self) -> str | None:
        """A sweep as a slider over its values (one frame per value); other results show as PNG."""
        if not self.items or self.sweep is None:
            return None
        frames = self.frames()
        uid = f"styleclip-{next(_ids)}-{id(self):x}"
        sources = [f"data:image/png;base64,{base64.b64encode(_png(image)).decode('ascii')}" for _, image in frames]
        labels = [label for label, _ in frames]
        return (
            f'<div id="{uid}" class="styleclip-sweep">'
            f'<img id="{uid}-img" src="{sources[0]}" alt="{html.escape(labels[0])}" style="image-rendering: pixelated"/>'
            f'<div><input type="range" min="0" max="{len(frames) - 1}" value="0" step="1" id="{uid}-range"/> '
            f'<span id="{uid}-label">{html.escape(labels[0])}</span></div>'
            f"<script>(function(){{var f={json.dumps(sources)},l={json.dumps(labels)};"
            f"var r=document.getElementById('{uid}-range');r.oninput=function(){{"
            f"document.getElementById('{uid}-img').src=f[r.value];"
            f"document.getElementById('{uid}-label').textContent=l[r.value];}};}})();</script></div>"
        )

    def __repr__(self) -> str:
        sweep = f", sweep over {self.sweep}" if self.sweep else ""
        return f"<Result {self.subject!r}: {len(self.items)} image(s){sweep}, {len(self.outputs)} file(s) written>"


def _scale(width: int, columns: int) -> int:
    """A whole factor that makes ``columns`` images of ``width`` at least DISPLAY_MIN_SIZE wide together."""
    total = max(1, width * columns)
    return max(1, -(-DISPLAY_MIN_SIZE // total))


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Session:
    """Recipes run from Python on one warm executor (the REPL's session machinery).

    ``models``: a model-set name or YAML path (default ``toon``); ``device``:
    ``cpu``, ``cuda``... (default: CUDA when present); ``out_dir``: where
    relative output paths land and ``base_dir``: what relative input paths
    are relative to (both default to the current folder); ``echo`` receives
    the runtime's notices (default: print them).
    """

    def __init__(self, models: str | None = DEFAULT_MODELSET, device: str | None = None, *, out_dir: str | Path | None = None,
                 base_dir: str | Path | None = None, echo: Callable[[str], None] | None = print) -> None:
        self._session = ReplSession(models=models, device=device,
                                    base_dir=Path(base_dir) if base_dir else None,
                                    out_dir=Path(out_dir) if out_dir else None)
        self._echo = echo
        self._notices: list[str] = []
        self._session.event_sink = self._event

    def _event(self, event: dict) -> None:
        if event.get("event") in ("notice", "warning"):
            message = str(event.get("message", ""))
            self._notices.append(message)
            if self._echo is not None:
                self._echo(message)

    # -- running -----------------------------------------------------------------------------
    def run(self, text: str, *, train: bool = False) -> Result:
        """Check and run ``text`` (one or more statements, ``;`` or newlines between them) after everything
        run so far; the latest result of the current subject. Raises ``RecipeError`` (nothing is kept)
        when the text is invalid or fails, and ``TrainingRequired`` when it would train a mapper for 30 s
        or more (or for a time the set cannot estimate) unless ``train`` is true."""
        self._notices = []
        # as `styleclip run` and the REPL: a training of 30 s or more, or with no estimate, needs train=True
        outcome = self._session.submit(text, consent=None if train else (lambda needs: False))
        if outcome.status == "declined":
            raise TrainingRequired(f"{outcome.message}; run(..., train=True) starts it", [], "training")
        if not outcome.accepted:
            raise self._error(outcome)
        for warning in (d for d in outcome.diagnostics if not d.is_error):
            self._event({"event": "warning", "message": f"{warning.message}"
                         + (f" ({warning.hint})" if warning.hint else "")})
        report = outcome.report
        result = self.result()
        result.outputs = list(report.outputs) if report is not None else []
        result.expectations = list(report.expectations) if report is not None else []
        result.notices = list(self._notices)
        return result

    def result(self, subject: str | None = None) -> Result:
        """The latest result of ``subject`` (default: the current subject) from memory."""
        facts = self._session.facts()
        name = subject or facts.current
        if name is None:
            return Result(None, [], _models=None)
        if name not in facts.latest:
            raise KeyError(f"no subject {name!r} (subjects: {', '.join(facts.subjects) or 'none'})")
        step = step_for_statement(self._session.plan or {}, facts.latest[name])
        executor = self._session.executor
        items = executor.result(step["hash"]) if step is not None and executor is not None else None
        if items is None:
            raise KeyError(f"the result of {name!r} is not in memory")
        return Result(name, list(items), _models=executor.models)

    def _error(self, outcome: Outcome) -> RecipeError:
        lines = [outcome.message] if outcome.message else []
        if outcome.diagnostics:
            from rich.console import Console

            buffer = io.StringIO()
            render_diagnostics(outcome.diagnostics, outcome.entry, Console(file=buffer, width=100, color_system=None,
                                                                                   force_jupyter=False))
            lines.append(buffer.getvalue().rstrip())
        what = {"invalid": "invalid recipe (nothing ran)", "failed": "the run failed",
                "interrupted": "interrupted"}.get(outcome.status, outcome.status)
        return RecipeError(what + ("\n" + "\n".join(lines) if lines else ""), outcome.diagnostics, outcome.status)

    # -- the session -------------------------------------------------------------------------
    @property
    def recipe(self) -> str:
        """Everything run so far, as a recipe."""
        return self._session.recipe_text() if self._session.entries else ""

    def save(self, path: str | Path) -> Path:
        """Write the session as a recipe (``styleclip run`` of it reproduces the images)."""
        return self._session.save(Path(path)).path

    def undo(self) -> str:
        """Forget the last entry (its results stay in memory)."""
        return self._session.undo()

    @property
    def subjects(self) -> list[str]:
        return self._session.facts().subjects

    @property
    def mappers(self) -> list[str]:
        """Prompts with a shipped mapper in the session's model set (after the first run)."""
        return self._session.mapper_prompts()

    def __repr__(self) -> str:
        return f"<Session {self._session.models or DEFAULT_MODELSET}: {len(self._session.entries)} entries>"
