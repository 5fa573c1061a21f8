"""``ENGINES``: every engine's spec by the name a recipe uses (``global``, ``mapper``, ``optimize``).

The one list of engines: the checker, the compiler, fusion, completion, the REPL's help, the
training gate, model sets' ``engine_defaults`` and the runtime's ``engines/registry.py`` read it.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..param_spec import ParamValue, typed_value
from . import global_directions, mapper, optimize
from .spec import EngineSpec

ENGINES: dict[str, EngineSpec] = {spec.name: spec for spec in (global_directions.SPEC, mapper.SPEC, optimize.SPEC)}

EngineDefaults = dict[str, dict[str, ParamValue]]


def engine_spec(name: str) -> EngineSpec:
    """The spec of engine ``name`` (KeyError for an unknown one: the checker reports those)."""
    return ENGINES[name]


def trains_models(engine: object) -> bool:
    """Whether edits of ``engine`` may train (and so read trained) models: the mapper's prompts."""
    spec = ENGINES.get(str(engine))
    return spec is not None and spec.trains


def validate_engine_defaults(raw: Any, where: str) -> EngineDefaults:
    """A model set's ``engine_defaults:`` mapping, checked against the specs: ``{engine: {param:
    value}}`` with each value in its parameter's type (numbers as floats) and normalised as the
    compiler would. Raises ValueError naming ``where`` (the YAML) and the entry for an unknown
    engine or parameter, a value of the wrong type or out of range, or defaults that break a rule."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: 'engine_defaults' must be a mapping of engine -> {{parameter: value}}")
    out: EngineDefaults = {}
    for engine, params in raw.items():
        spec = ENGINES.get(str(engine))
        if spec is None:
            raise ValueError(f"{where}: engine_defaults: unknown engine {engine!r} (engines: {', '.join(ENGINES)})")
        if not isinstance(params, Mapping):
            raise ValueError(f"{where}: engine_defaults.{engine} must be a mapping of parameter -> value")
        table: dict[str, ParamValue] = {}
        for name, value in params.items():
            param = spec.params.get(str(name))
            if param is None:
                raise ValueError(f"{where}: engine_defaults.{engine}: unknown parameter {name!r} "
                                 f"({engine} takes: {', '.join(spec.params)})")
            typed = typed_value(value, param)
            if typed is None:
                wants = param.constraint.describe() if param.constraint is not None else param.type
                raise ValueError(f"{where}: engine_defaults.{engine}.{name}: {value!r} is not allowed "
                                 f"(a {param.type}, {wants})")
            table[str(name)] = typed
        table = spec.normalise(table)
        for rule in spec.broken_rules({**spec.defaults(), **table}):
            raise ValueError(f"{where}: engine_defaults.{engine}: {rule.message}")
        out[spec.name] = table
    return out
