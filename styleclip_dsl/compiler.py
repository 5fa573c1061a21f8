"""Checked AST -> Plan: resolves defaults, expands sweeps, fuses global edits.

An edit's parameters that the recipe leaves out come from the model set's ``engine_defaults``
(its YAML, when it has them: the edit's own prompt's entry, then the engine-wide one) and then
from the engine's spec (``engines/registry.py``); text
lists such as ``keep=`` are written in their canonical form (``EngineSpec.normalise``), so the
runtime never reads recipe text.

The compiler trusts the checker: it is only called on a recipe without
errors (``api.compile_recipe`` makes sure of that).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from . import ast
from .defaults import (
    ANIMATION_PARAMS, DEFAULT_MODELSET, DEFAULT_SEED, GENERATE_PARAMS, MAX_GENERATE_SEEDS, MAX_SWEEP_VALUES,
    ParamSpec,
)
from .engines.registry import ENGINES, EngineDefaults
from .fusion import fuse_global_edits
from .metrics import METRICS
from .naming import GENERATE_DEFAULT_NAME, subject_name_for_path
from .plan import (
    EditEntry, EditStep, ExpectStep, ExportStep, Plan, SaveStep, SourceStep, Step, Sweep, finalize,
)
from .scope import Scope, Subject
from .sweeps import SweepError, expand
from .values import is_sweep


@dataclass(frozen=True)
class Settings:
    """Plan-wide settings; ``None`` means "as the recipe says (or the default)"."""

    modelset: str | None = None
    seed: int | None = None
    device: str | None = None


def compile_ast(recipe: ast.Recipe, source_name: str, overrides: Settings = Settings(),
                engine_defaults: Callable[[str], EngineDefaults] | None = None) -> Plan:
    """The plan of a checked recipe. ``engine_defaults(modelset)``: the set's own defaults per
    engine (``ModelNames.engine_defaults``); without it, the engines' defaults alone."""
    modelset = plan_modelset(recipe, overrides)
    builder = _PlanBuilder(engine_defaults(modelset) if engine_defaults is not None else EngineDefaults())
    for statement in recipe.statements:
        builder.visit(statement)
    seed = next(s for s in (overrides.seed, builder.settings.seed, DEFAULT_SEED) if s is not None)
    device = overrides.device or builder.settings.device
    steps = finalize(fuse_global_edits(builder.steps), modelset, seed)
    return Plan(modelset, seed, device, source_name, steps)


def plan_modelset(recipe: ast.Recipe, overrides: Settings = Settings()) -> str:
    """The model set the plan runs on: the override, else the recipe's (last) ``use``, else the default."""
    uses = [s.modelset.name for s in recipe.statements if isinstance(s, ast.Use)]
    return overrides.modelset or (uses[-1] if uses else None) or DEFAULT_MODELSET


def convert(value: ast.Scalar, spec: ParamSpec) -> float | int | str | bool:
    """A checked scalar in the parameter's type (numbers become floats unless the type is int)."""
    if spec.type == "number":
        return float(value.value)
    if spec.type == "int":
        return int(value.value)
    if spec.type == "bool":
        return bool(value.value)
    return str(value.value)


class _PlanBuilder:
    def __init__(self, engine_defaults: EngineDefaults) -> None:
        self.engine_defaults = engine_defaults
        self.steps: list[Step] = []
        self.scope = Scope()
        self.settings = Settings()

    def _new_id(self) -> str:
        return f"t{len(self.steps) + 1}"

    def visit(self, node: ast.Statement) -> None:
        if isinstance(node, ast.Use):
            self.settings = replace(self.settings, modelset=node.modelset.name)
        elif isinstance(node, ast.Seed):
            self.settings = replace(self.settings, seed=int(node.value.value))
        elif isinstance(node, ast.Device):
            self.settings = replace(self.settings, device=node.name.name)
        elif isinstance(node, (ast.Invert, ast.Generate, ast.Load)):
            self._source(node)
        elif isinstance(node, ast.On):
            self.scope.select(node.subject.name)
        elif isinstance(node, ast.Edit):
            self._edit(node)
        elif isinstance(node, (ast.Save, ast.Export, ast.Expect)):
            self._output(node)

    def _source(self, node: ast.Invert | ast.Generate | ast.Load) -> None:
        step_id = self._new_id()
        if isinstance(node, ast.Invert):
            name = node.alias.name if node.alias else subject_name_for_path(node.paths[0].value)
            params: dict = {"paths": [p.value for p in node.paths]}
            params.update({p.key.name: p.value.value for p in node.params})  # face=N (absent: hashes unchanged)
            step = SourceStep(op="invert", subject=name, params=params, id=step_id, span=node.span)
        elif isinstance(node, ast.Load):
            name = node.alias.name if node.alias else subject_name_for_path(node.path.value)
            step = SourceStep(op="load", subject=name, params={"path": node.path.value}, id=step_id, span=node.span)
        else:
            name = node.alias.name if node.alias else GENERATE_DEFAULT_NAME
            given = {p.key.name: p.value for p in node.params}
            seeds_node = given.get("seeds", given.get("seed"))
            if is_sweep(seeds_node):
                seeds = expand(seeds_node, True, MAX_GENERATE_SEEDS)  # type: ignore[arg-type]
                assert not isinstance(seeds, SweepError)
            else:
                seeds = [int(seeds_node.value)]  # type: ignore[union-attr]
            spec = GENERATE_PARAMS["truncation"]
            truncation = convert(given["truncation"], spec) if "truncation" in given else spec.default
            step = SourceStep(op="generate", subject=name, params={"seeds": list(seeds), "truncation": truncation},
                              id=step_id, span=node.span)
        self.steps.append(step)
        self.scope.define(Subject(name, step_id, step_id))

    def _edit(self, node: ast.Edit) -> None:
        subject = self.scope.current
        assert subject is not None
        engine = ENGINES[node.engine.name]
        specs = engine.params
        set_defaults = self.engine_defaults.for_edit(engine.name, node.text.value)
        params: dict[str, float | int | str | bool] = {**engine.defaults(), **set_defaults}  # type: ignore[dict-item]
        sweep: Sweep | None = None
        for param in node.params:
            key, spec = param.key.name, specs[param.key.name]
            if is_sweep(param.value):
                values = expand(param.value, spec.type == "int", MAX_SWEEP_VALUES)  # type: ignore[arg-type]
                assert not isinstance(values, SweepError)
                sweep = Sweep(key, tuple(values))
                params[key] = values[0]
            else:
                params[key] = convert(param.value, spec)  # type: ignore[arg-type]
        params = engine.normalise(params)
        given = {param.key.name for param in node.params}
        origins = {k: self.engine_defaults.origin(engine.name, node.text.value, k) or "engine"
                   for k in params if k not in given}
        step_id = self._new_id()
        source = subject.latest if node.chained else subject.source
        self.steps.append(EditStep(
            input=source, engine=node.engine.name, edits=(EditEntry(node.text.value, params, origins),),
            sweep=sweep, id=step_id, span=node.span,
        ))
        if node.chained:
            self.scope.continue_branch(step_id, sweep.param if sweep else None)
        else:
            self.scope.start_branch(step_id, sweep.param if sweep else None)

    def _output(self, node: ast.Save | ast.Export | ast.Expect) -> None:
        subject = self.scope.current
        assert subject is not None
        common = {"input": subject.latest, "id": self._new_id(), "span": node.span}
        if isinstance(node, ast.Save):
            params: dict = {}
            if node.mode == "animation":  # every parameter, defaults resolved, as for edits
                given = {p.key.name: p.value for p in node.params}
                params = {k: convert(given[k], spec) if k in given else spec.default
                          for k, spec in ANIMATION_PARAMS.items()}
            self.steps.append(SaveStep(mode=node.mode, path=node.path.value, params=params, **common))
        elif isinstance(node, ast.Export):
            self.steps.append(ExportStep(path=node.path.value, **common))
        else:
            kw_specs = METRICS[node.metric.name].kwargs
            self.steps.append(ExpectStep(
                metric=node.metric.name,
                args=tuple(a.value for a in node.args),
                kwargs={k.key.name: convert(k.value, kw_specs[k.key.name]) for k in node.kwargs},  # type: ignore[arg-type]
                op=node.op,  # type: ignore[arg-type]
                value=float(node.value.value) if isinstance(node.value, ast.Number) else str(node.value.value),
                **common,
            ))
