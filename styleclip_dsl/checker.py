"""Semantic checks of a parsed recipe: every error it can find, in one pass.

What is checked where (one method per statement kind):
unknown statements, engines, parameters and metrics (with did-you-mean
hints); parameter types and ranges (from defaults.py); duplicate parameters
and settings; sweeps (numeric parameters only, one per edit, sane sizes);
``then`` with nothing to chain onto; subjects used before they exist;
placeholders in output paths; ``save animation`` without a sweep; paths that
every item or variant would overwrite; ``expect`` arity and types.

Checks that depend on the statements before (subjects, ``then``, sweeps seen
by a save) are skipped from ``flow_until`` on: the position of the first
statement that did not parse or is unknown, so that no error reported is a
consequence of another.
"""
from __future__ import annotations

import math
import re
from typing import Callable

from . import ast
from .constraints import Constraint, OneOf
from .defaults import (
    DEFAULT_MODELSET, ANIMATION_PARAMS, INVERT_PARAMS, SAVE_EXTENSIONS, GENERATE_PARAMS, MAX_GENERATE_SEEDS, MAX_SEED, MAX_SWEEP_VALUES,
    NUMERIC_TYPES, ParamSpec,
)
from .diagnostics import Diagnostic, DiagnosticSink
from .engines.registry import ENGINES, EngineDefaults
from .engines.spec import EngineSpec, ParamRule
from .keywords import statement_keywords
from .metrics import LABEL_OPS, METRICS
from .model_names import ModelNames, prompt_key
from .naming import (
    GENERATE_DEFAULT_NAME, ITEM_IDENTITY_LABELS, ITEM_LABELS, is_glob, placeholders,
    subject_name_for_path, unbalanced_brace,
)
from .save_paths import GOLDEN_HINT, golden_path_problem, path_problem
from .scope import Scope, Subject
from .spans import Span
from .suggest import did_you_mean
from .sweeps import SweepError, expand
from .values import OUT_OF_RANGE, describe, is_sweep, magnitude_problem

LATENT_EXTENSIONS: tuple[str, ...] = (".pt", ".npz")
LOAD_EXTENSIONS: tuple[str, ...] = (".pt", ".npz", ".npy")
_DEVICE = re.compile(r"cpu|cuda(:\d+)?|mps|auto")
_DEVICE_ALIASES = {"gpu": "cuda", "cuda0": "cuda:0", "nvidia": "cuda", "metal": "mps"}
_ALL_PARAMS = {name for spec in ENGINES.values() for name in spec.params}
_NO_SUBJECT_HINT = "start with `invert PATH`, `generate seeds=1..4` or `load FILE`"


def check_recipe(
    recipe: ast.Recipe, source_name: str, flow_until: tuple[int, int] | None = None,
    names: ModelNames | None = None, modelset: str | None = None,
) -> list[Diagnostic]:
    """Diagnostics for ``recipe`` (empty when it is fine). ``names``: the installed model sets, for
    ``use`` and mapper prompts (``modelset``: the set a recipe without ``use`` runs on)."""
    checker = Checker(source_name)
    checker.names = names
    for statement in recipe.statements:
        span = statement.span
        checker.flow = flow_until is None or (span.line, span.column) < flow_until
        checker.visit(statement)
    checker.check_mapper_prompts(modelset)
    checker.check_attribute_families(modelset)
    checker.check_rules(modelset)
    return checker.sink.items


class Checker:
    """One pass over the statements; owns its scope and its diagnostics."""

    def __init__(self, source_name: str) -> None:
        self.sink = DiagnosticSink(source_name)
        self.scope = Scope()
        self.flow = True
        self.settings: dict[str, Span] = {}
        self.names: ModelNames | None = None
        self.modelset: str | None = None            # as `use` names it
        self.mapper_texts: list[ast.Text] = []     # mapper prompts, checked against the set at the end
        # each edit's engine and its valid params, for the engines' rules, checked at the end against the
        # set's engine_defaults (a parameter left out takes the set's default before the engine's)
        self.rule_checks: list[tuple[EngineSpec, dict[str, ast.Param], str]] = []  # spec, params, the edit's text
        self.family_args: list[ast.Text | ast.Word] = []  # attribute(family) arguments, likewise
        self._visitors: dict[type, Callable[[object], None]] = {
            ast.Unknown: self.unknown, ast.Use: self.use, ast.Seed: self.seed,
            ast.Device: self.device, ast.Invert: self.invert, ast.Generate: self.generate,
            ast.Load: self.load, ast.On: self.on, ast.Edit: self.edit, ast.Save: self.save,
            ast.Export: self.export, ast.Expect: self.expect,
        }

    def visit(self, statement: ast.Statement) -> None:
        self._visitors[type(statement)](statement)

    # ------------------------------------------------------------ settings
    def unknown(self, node: ast.Unknown) -> None:
        word = node.word.name
        if word in _ALL_PARAMS:
            hint = f"parameters go on the edit's line, e.g. `global 'smile' {word}=...`"
        else:
            hint = did_you_mean(
                word, statement_keywords(),
                "a statement starts with one of: " + ", ".join(sorted(statement_keywords())),
            )
        self.sink.error("E-unknown-statement", f"unknown statement '{word}'", node.word.span, hint)

    def _setting(self, keyword: str, span: Span) -> None:
        first = self.settings.get(keyword)
        if first is not None:
            self.sink.error(
                "E-duplicate-setting", f"'{keyword}' is already set on line {first.line}", span,
                f"a recipe sets `{keyword}` once; remove one of them",
            )
        else:
            self.settings[keyword] = span

    def use(self, node: ast.Use) -> None:
        self._setting("use", node.span)
        name = node.modelset.name
        self.modelset = name
        if self.names is not None and not self.names.knows(name):
            known = self.names.modelsets
            self.sink.error(
                "E-unknown-modelset", f"unknown model set '{name}'", node.modelset.span,
                did_you_mean(name, known, "model sets: " + ", ".join(known) + " (`styleclip models list`)"),
            )

    def check_mapper_prompts(self, default: str | None) -> None:
        """A mapper prompt no shipped or trained mapper has: a warning, since training one is legitimate,
        with a did-you-mean when a known prompt is close ('smiel' -> 'smile')."""
        if self.names is None or not self.mapper_texts:
            return
        modelset = self.names.forced or self.modelset or default or self.names.default
        if not self.names.knows(modelset):
            return
        prompts = self.names.mapper_prompts(modelset)
        if prompts is None:
            return
        keys = {prompt_key(p) for p in prompts}
        for text in self.mapper_texts:
            if prompt_key(text.value) in keys or not text.value.strip():
                continue
            close = did_you_mean(text.value, prompts)
            if self.names.trains_mappers(modelset):
                consequence = "running it trains one (`styleclip run --train`)"
            else:
                consequence = f"train one with `styleclip train mapper '{text.value}' --models {modelset}`"
            listed = "; mappers: " + ", ".join(prompts) if prompts else f" ('{modelset}' has no mappers yet)"
            hint = f"{close} Otherwise {consequence}" if close else consequence[0].upper() + consequence[1:] + listed
            self.sink.warning(
                "W-new-mapper", f"no mapper for '{text.value}' in model set '{modelset}'", text.span, hint,
            )

    def check_attribute_families(self, default: str | None) -> None:
        """An attribute(family) the set's judge does not read: an error with a did-you-mean. The families
        ship with the set (its judge config), so without ``names`` or a judge there is nothing to check here
        (the run says so)."""
        if self.names is None or not self.family_args:
            return
        modelset = self.names.forced or self.modelset or default or self.names.default
        families = self.names.attribute_families(modelset) if self.names.knows(modelset) else None
        if families is None:
            return
        for arg in self.family_args:
            if arg.value not in families:
                self.sink.error(
                    "E-unknown-family", f"unknown attribute family '{arg.value}'", arg.span,
                    did_you_mean(arg.value, families, "families: " + ", ".join(families)),
                )

    def seed(self, node: ast.Seed) -> None:
        self._setting("seed", node.span)
        value = node.value.value
        if not math.isfinite(value):
            self.sink.error("E-type", f"seed: {OUT_OF_RANGE}", node.value.span)
        elif not isinstance(value, int) or not 0 <= value <= MAX_SEED:
            self.sink.error(
                "E-type", f"seed must be an integer from 0 to {MAX_SEED}, got {value}", node.value.span
            )

    def device(self, node: ast.Device) -> None:
        self._setting("device", node.span)
        name = node.name.name
        if not _DEVICE.fullmatch(name):
            alias = _DEVICE_ALIASES.get(name.lower())
            hint = f"did you mean '{alias}'?" if alias else did_you_mean(
                name, ("cpu", "cuda", "mps", "auto"), "use cpu, cuda, cuda:N, mps or auto"
            )
            self.sink.error("E-unknown-device", f"unknown device '{name}'", node.name.span, hint)

    # ------------------------------------------------------------ subjects
    def _define(self, name: str, span: Span, items: int | None) -> None:
        previous = self.scope.get(name)
        if previous is not None and self.flow:
            self.sink.error(
                "E-duplicate-name", f"subject '{name}' is already defined on line {previous.line}", span,
                "give this one another name with `as NAME`",
            )
        key = f"{span.line}:{span.column}"
        self.scope.define(Subject(name, key, key, items=items, line=span.line))

    def invert(self, node: ast.Invert) -> None:
        for path in node.paths:
            if not path.value.strip():
                self.sink.error("E-empty-path", "empty path", path.span)
        if node.params:
            self._check_params(node.params, INVERT_PARAMS, "invert", sweepable=())
        if node.alias is not None:
            name, span = node.alias.name, node.alias.span
        else:
            name, span = subject_name_for_path(node.paths[0].value), node.span
        items = None if any(is_glob(p.value) for p in node.paths) else len(node.paths)
        self._define(name, span, items)

    def generate(self, node: ast.Generate) -> None:
        by_key = self._check_params(node.params, GENERATE_PARAMS, "generate", sweepable=("seeds",))
        items: int | None = None
        if "seed" in by_key and "seeds" in by_key:
            self.sink.error(
                "E-generate-seeds", "generate takes `seed` or `seeds`, not both", by_key["seeds"].span,
                "use seeds=A..B (or a list) for several samples",
            )
        elif "seed" not in by_key and "seeds" not in by_key:
            self.sink.error(
                "E-generate-seeds", "generate needs `seed=N` or `seeds=A..B`", node.span,
                "e.g. `generate seeds=1..4 as samples`",
            )
        elif "seed" in by_key:
            items = 1
        else:
            value = by_key["seeds"].value
            if is_sweep(value):
                expanded = expand(value, True, MAX_GENERATE_SEEDS)  # type: ignore[arg-type]
                items = None if isinstance(expanded, SweepError) else len(expanded)
            else:
                items = 1
        name_node = node.alias
        name = name_node.name if name_node else GENERATE_DEFAULT_NAME
        self._define(name, name_node.span if name_node else node.span, items)

    def load(self, node: ast.Load) -> None:
        if not node.path.value.lower().endswith(LOAD_EXTENSIONS):
            self.sink.error(
                "E-latent-format", f"cannot load latents from '{node.path.value}'", node.path.span,
                "latent files end in " + ", ".join(LOAD_EXTENSIONS),
            )
        name = node.alias.name if node.alias else subject_name_for_path(node.path.value)
        self._define(name, node.alias.span if node.alias else node.span, None)

    def on(self, node: ast.On) -> None:
        if self.scope.select(node.subject.name) is None and self.flow:
            known = list(self.scope.subjects)
            fallback = ("subjects so far: " + ", ".join(known)) if known else "define it first with `as NAME`"
            self.sink.error(
                "E-unknown-name", f"no subject named '{node.subject.name}' (yet)", node.subject.span,
                did_you_mean(node.subject.name, known, fallback),
            )

    # ------------------------------------------------------------ edits
    def edit(self, node: ast.Edit) -> None:
        engine = node.engine.name
        swept: str | None = None
        spec = ENGINES.get(engine)
        if spec is None:
            self.sink.error(
                "E-unknown-engine", f"unknown engine '{engine}'", node.engine.span,
                did_you_mean(engine, ENGINES, "engines: " + ", ".join(ENGINES)),
            )
        else:
            by_key = self._check_params(node.params, dict(spec.params), f"engine '{engine}'")
            swept = next((k for k, p in by_key.items() if is_sweep(p.value)), None)
            if spec.rules:
                self.rule_checks.append((spec, by_key, node.text.value))
            for name in spec.text_lists:
                if name in by_key:
                    self._check_keep(by_key[name], node.text.value)
            if spec.trains:
                self.mapper_texts.append(node.text)
        if not node.text.value.strip():
            self.sink.error("E-empty-text", "the edit's text is empty", node.text.span, "e.g. 'curly hair'")
        subject = self._subject("edit", node.span)
        if subject is None:
            return
        if node.chained and not subject.has_edit:
            self.sink.error(
                "E-then-without-edit", f"`then` has no edit to chain onto (subject '{subject.name}')",
                node.span, "start the branch with `apply ...` or a shorthand such as `global 'smile'`",
            )
            return
        key = f"{node.span.line}:{node.span.column}"
        if node.chained:
            self.scope.continue_branch(key, swept)
        else:
            self.scope.start_branch(key, swept)

    def _check_keep(self, keep: ast.Param, text: str) -> None:
        """``global 'X' keep='...'`` must not keep X itself: nothing would be left to move."""
        values = keep.value.items if isinstance(keep.value, ast.ListValue) else (keep.value,)
        for value in values:
            if not isinstance(value, ast.Text):
                continue
            kept = [part.strip().lower() for part in value.value.split(",")]
            if text.strip().lower() in kept:
                self.sink.error(
                    "E-keep-own-text", f"keep names the edit's own text '{text}'", value.span,
                    "keep lists what the edit should leave alone, e.g. keep='hair style, glasses'",
                )

    def check_rules(self, default: str | None) -> None:
        """The engines' rules between parameters, e.g. ``optimize beta=...`` masks StyleSpace channels,
        so it needs ``space=s``. A parameter the recipe leaves out counts as the model set's default
        (its ``engine_defaults``, the edit's prompt's own first), else the engine's; a swept
        parameter counts as set."""
        if not self.rule_checks:
            return
        modelset = default or self.modelset or DEFAULT_MODELSET
        try:
            set_defaults = (self.names or ModelNames(())).engine_defaults(modelset)
        except ValueError:  # a YAML with wrong engine_defaults: reported once, with the compile
            set_defaults = EngineDefaults()
        for spec, by_key, text in self.rule_checks:
            filled = {**spec.defaults(), **set_defaults.for_edit(spec.name, text)}
            for rule in spec.rules:
                self._check_rule(rule, by_key, filled, spec.params[rule.needs].constraint)

    def _check_rule(self, rule: ParamRule, by_key: dict[str, ast.Param], filled: dict[str, object],
                    needs_constraint: Constraint | None) -> None:
        param, needed = by_key.get(rule.param), by_key.get(rule.needs)
        if param is None and needed is None:
            return  # both from the defaults, which the model set's YAML was checked against
        if needed is not None and needs_constraint is not None \
                and not needs_constraint.allows(getattr(needed.value, "value", None)):
            return  # a value the parameter does not take: already an error of its own
        if param is not None:
            if isinstance(param.value, ast.Number) and param.value.value == 0:
                return
        elif not rule.broken_by({rule.param: filled.get(rule.param)}):
            return  # the default leaves the parameter at zero
        needed_value = getattr(needed.value, "value", None) if needed is not None else filled.get(rule.needs)
        if needed_value == rule.value:
            return
        if param is not None:
            self.sink.error(rule.code, rule.message, param.key.span, rule.hint)
        else:
            assert needed is not None
            self.sink.error(rule.code, f"{rule.message} (the model set's default {rule.param} is "
                            f"{filled.get(rule.param)})", needed.key.span,
                            f"set {rule.param}=0 as well, or leave {rule.needs} to the model set")

    def _check_params(
        self, params: tuple[ast.Param, ...], specs: dict[str, ParamSpec], owner: str,
        sweepable: tuple[str, ...] | None = None,
    ) -> dict[str, ast.Param]:
        """Checks names, duplicates, types, ranges and sweeps; returns the valid params by name."""
        by_key: dict[str, ast.Param] = {}
        swept: str | None = None
        for param in params:
            key = param.key.name
            if key in by_key:
                self.sink.error(
                    "E-duplicate-param", f"parameter '{key}' is given twice", param.key.span,
                    f"remove one of them (first on column {by_key[key].key.span.column})",
                )
                continue
            spec = specs.get(key)
            if spec is None:
                self.sink.error(
                    "E-unknown-param", f"unknown parameter '{key}' for {owner}", param.key.span,
                    did_you_mean(key, specs, f"{owner} takes: " + ", ".join(specs)),
                )
                continue
            by_key[key] = param
            if not is_sweep(param.value):
                self._check_scalar(key, param.value, spec)  # type: ignore[arg-type]
                continue
            if spec.type not in NUMERIC_TYPES:
                self.sink.error(
                    "E-sweep-non-numeric", f"cannot sweep '{key}': it is a {spec.type} parameter",
                    param.value.span, "sweeps work on numeric parameters",
                )
            elif sweepable is not None and key not in sweepable:
                self.sink.error("E-sweep-not-allowed", f"'{key}' cannot be swept here", param.value.span)
            elif swept is not None:
                self.sink.error(
                    "E-multiple-sweeps", f"a second sweep ('{key}') in one edit", param.value.span,
                    f"one parameter per edit may sweep ('{swept}' does already); "
                    "chain another edit with `then` for a second sweep",
                )
            else:
                if sweepable is None:
                    swept = key
                self._check_sweep(key, param.value, spec)  # type: ignore[arg-type]
        return by_key

    def _check_sweep(self, key: str, node: ast.Range | ast.ListValue, spec: ParamSpec) -> None:
        limit = MAX_GENERATE_SEEDS if key == "seeds" else MAX_SWEEP_VALUES
        values = expand(node, spec.type == "int", limit)
        if isinstance(values, SweepError):
            self.sink.error("E-sweep", values.message, values.span, values.hint)
            return
        constraint = spec.constraint
        for value in values:
            if constraint is not None and not constraint.allows(value):
                self.sink.error(
                    "E-range", f"{key} must be {constraint.describe()}; the sweep reaches {value}",
                    node.span,
                )
                return
            absurd = magnitude_problem(key, value, constraint, spec.default)  # values.py: |x| <= 1e6
            if absurd is not None:
                self.sink.error("E-out-of-range", absurd[0] + " (the sweep reaches it)", node.span, absurd[1])
                return

    def _check_scalar(self, key: str, node: ast.Scalar, spec: ParamSpec) -> None:
        if spec.type in NUMERIC_TYPES:
            if not isinstance(node, ast.Number):
                self.sink.error("E-type", f"{key} must be a number, got {describe(node)}", node.span)
                return
            if not math.isfinite(node.value):
                self.sink.error("E-type", f"{key}: {OUT_OF_RANGE}", node.span)
                return
            if spec.type == "int" and not isinstance(node.value, int):
                self.sink.error("E-type", f"{key} must be an integer, got {node.value}", node.span)
                return
        elif spec.type == "bool":
            if not isinstance(node, ast.Bool):
                self.sink.error("E-type", f"{key} must be true or false, got {describe(node)}", node.span)
            return
        elif not isinstance(node, (ast.Text, ast.Word)):
            self.sink.error("E-type", f"{key} must be a string, got {describe(node)}", node.span)
            return
        constraint = spec.constraint
        if constraint is not None and not constraint.allows(node.value):
            hint = None
            if isinstance(constraint, OneOf):
                hint = did_you_mean(str(node.value), constraint.options)
            self.sink.error(
                "E-range", f"{key} must be {constraint.describe()}, got {node.value!r}", node.span, hint
            )
        elif spec.type in NUMERIC_TYPES:  # finite but absurd (alpha=1e300): values.py's generic bound
            absurd = magnitude_problem(key, node.value, constraint, spec.default)  # type: ignore[arg-type]
            if absurd is not None:
                self.sink.error("E-out-of-range", absurd[0], node.span, absurd[1])

    # ------------------------------------------------------------ outputs
    def _subject(self, verb: str, span: Span) -> Subject | None:
        subject = self.scope.current
        if subject is None and self.flow:
            self.sink.error("E-no-subject", f"nothing to {verb} yet", span, _NO_SUBJECT_HINT)
        return subject if self.flow else None

    def save(self, node: ast.Save) -> None:
        subject = self._subject("save", node.span)
        self._check_path_placeholders(node.path, subject)
        self._check_save_format(node)
        if subject is None:
            return
        if node.mode == "animation" and not subject.sweeps:
            self.sink.error(
                "E-animation-without-sweep", "`save animation` needs a sweep: its frames are the sweep's values",
                node.span, "sweep a parameter, e.g. `global 'smile' alpha=0..6 count 5`, or use `save grid`",
            )
        if node.mode not in ("image", "aligned"):
            return
        names = {p.name for p in placeholders(node.path.value)}
        missing = [s for s in subject.sweeps if s not in names] if node.mode == "image" else []  # aligned: per photo
        if missing:
            self.sink.error(
                "E-overwrite", f"every value of the sweep over '{missing[0]}' would be saved to the same file",
                node.path.span, f"add {{{missing[0]}}} to the path, or use `save grid` / `save animation`",
            )
        elif not names.intersection(ITEM_IDENTITY_LABELS) and subject.items != 1:
            message = f"all items of '{subject.name}' would be saved to the same file"
            hint = "add {name} or {index} to the path, or use `save grid`"
            if subject.items is None:
                self.sink.warning("W-overwrite", message + " (if the pattern matches several)", node.path.span, hint)
            else:
                self.sink.error("E-overwrite", message, node.path.span, hint)

    def _check_save_format(self, node: ast.Save) -> None:
        """The file's format follows its extension, so an extension the mode cannot write is an error;
        only ``save animation`` takes parameters."""
        if node.params:
            self._check_params(node.params, ANIMATION_PARAMS, "save animation", sweepable=())
        allowed = SAVE_EXTENSIONS[node.mode]
        suffix = "." + node.path.value.rsplit(".", 1)[-1].lower() if "." in node.path.value.rsplit("/", 1)[-1] else ""
        if suffix not in allowed:
            what = {"image": "an image", "grid": "a grid", "animation": "an animation",
                    "aligned": "an aligned photo"}[node.mode]
            hint = did_you_mean(suffix, allowed, None) if suffix else None
            if suffix in SAVE_EXTENSIONS["animation"] and node.mode != "animation":
                hint = "for an animation of a sweep, use `save animation PATH`"
            elif node.mode == "animation" and suffix in SAVE_EXTENSIONS["image"]:
                hint = "for one picture of every frame, use `save grid PATH`"
            self.sink.error(
                "E-output-format",
                f"cannot save {what} as '{suffix or node.path.value}': the format follows the extension",
                node.path.span, hint or f"{what} path ends in " + ", ".join(allowed),
            )

    def export(self, node: ast.Export) -> None:
        subject = self._subject("export", node.span)
        self._check_path_placeholders(node.path, subject)
        if not node.path.value.lower().endswith(LATENT_EXTENSIONS):
            self.sink.error(
                "E-latent-format", f"cannot export latents to '{node.path.value}'", node.path.span,
                "use a path ending in .pt or .npz",
            )

    def _check_path_placeholders(self, path: ast.Path, subject: Subject | None) -> None:
        escape = path_problem(path.value)
        if escape is not None:
            self.sink.error("E-output-path", escape, path.span, "write a relative path such as out/result.png")
        bad = unbalanced_brace(path.value)
        if bad is not None:
            self.sink.error(
                "E-placeholder", f"unbalanced '{path.value[bad]}' in path", _inner_span(path, bad, 1),
                "placeholders look like {name}",
            )
        sweeps = subject.sweeps if subject is not None else ()
        allowed = ITEM_LABELS + sweeps
        for found in placeholders(path.value):
            if found.name in allowed or (not self.flow and found.name in _ALL_PARAMS):
                continue
            if found.name in _ALL_PARAMS:
                hint = f"{{{found.name}}} is only known when the saved result sweeps {found.name}"
            else:
                hint = did_you_mean(found.name, allowed, "placeholders: " + ", ".join(f"{{{a}}}" for a in allowed))
            self.sink.error(
                "E-unknown-placeholder", f"unknown placeholder '{{{found.name}}}'",
                _inner_span(path, found.offset, found.length), hint,
            )

    # ------------------------------------------------------------ assertions
    def expect(self, node: ast.Expect) -> None:
        self._subject("check", node.span)
        name = node.metric.name
        spec = METRICS.get(name)
        if spec is None:
            self.sink.error(
                "E-unknown-metric", f"unknown metric '{name}'", node.metric.span,
                did_you_mean(name, METRICS, "metrics: " + ", ".join(METRICS)),
            )
            return
        if len(node.args) != len(spec.args):
            wanted = ", ".join(spec.args)
            self.sink.error(
                "E-metric-arity",
                f"{name}() takes {len(spec.args)} argument{'s' if len(spec.args) != 1 else ''}, got {len(node.args)}",
                node.span, f"write {name}({wanted})",
            )
        else:
            for arg_name, arg in zip(spec.args, node.args):
                self._check_metric_arg(name, arg_name, arg)
        self._check_params(node.kwargs, spec.kwargs, f"metric '{name}'", sweepable=())
        if spec.result == "label":
            if node.op not in LABEL_OPS:
                self.sink.error(
                    "E-compare", f"{name}() is compared with == or !=, not {node.op}", node.span,
                    f"e.g. expect {name}(hair_style) == 'curly'",
                )
            if not isinstance(node.value, (ast.Text, ast.Word)):
                self.sink.error("E-type", f"{name}() is compared to a string, got {describe(node.value)}", node.value.span)
        elif not isinstance(node.value, ast.Number):
            self.sink.error("E-type", f"{name}() is compared to a number, got {describe(node.value)}", node.value.span)
        elif not math.isfinite(node.value.value):
            self.sink.error("E-type", OUT_OF_RANGE, node.value.span)

    def _check_metric_arg(self, metric: str, arg_name: str, arg: ast.Scalar) -> None:
        if not isinstance(arg, (ast.Text, ast.Word)):
            self.sink.error("E-type", f"{metric}(): {arg_name} must be a string, got {describe(arg)}", arg.span)
            return
        if not arg.value.strip():
            self.sink.error("E-empty-text", f"{metric}(): {arg_name} is empty", arg.span)
        elif arg_name == "family":
            self.family_args.append(arg)
        elif metric == "golden" and golden_path_problem(arg.value) is not None:  # --update-golden writes it
            self.sink.error("E-golden-path", golden_path_problem(arg.value), arg.span, GOLDEN_HINT)


def missing_output_warning(recipe: ast.Recipe | None, source_name: str) -> Diagnostic | None:
    """A recipe file that makes results but never saves, exports or tests them computes for nothing
    (`styleclip check`, `run` and `test` say so; the REPL and the notebook, where results are shown, do not)."""
    if recipe is None:
        return None
    statements = recipe.statements
    makers = [s for s in statements if isinstance(s, (ast.Invert, ast.Generate, ast.Load, ast.Edit))]
    if not makers or any(isinstance(s, (ast.Save, ast.Export, ast.Expect)) for s in statements):
        return None
    return Diagnostic(
        "the recipe saves nothing: its results are computed and dropped", "add `save out/{name}.png` "
        "(or `save grid PATH`, `export latent PATH`, an `expect`)", makers[-1].span, source_name,
        "warning", "W-no-output",
    )


def _inner_span(path: ast.Path, offset: int, length: int) -> Span:
    """The span of ``path.value[offset:offset+length]`` (a quoted path starts one column later)."""
    span = path.span
    if not span.known or span.line != span.end_line:
        return span
    quoted = (span.end_column - span.column) != len(path.value)
    start = span.column + offset + (1 if quoted else 0)
    return Span(span.line, start, span.line, start + length)
