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


def prompt_defaults_key(text: str) -> str:
    """How an edit's text matches a model set's per-prompt defaults: case and runs of spaces do not
    count ('Purple  hair' is 'purple hair')."""
    return " ".join(str(text).lower().split())


class EngineDefaults(dict[str, dict[str, ParamValue]]):
    """A model set's ``engine_defaults``: ``{engine: {parameter: value}}`` for every edit of an engine,
    and in ``prompts`` (``{engine: {prompt: {parameter: value}}}``, the YAML's ``prompts:`` inside an
    engine's entry) the settings that work for one text on that set, which win over the engine-wide
    ones. A recipe's own values win over both (the compiler)."""

    def __init__(self, engines: Mapping[str, dict[str, ParamValue]] | None = None,
                 prompts: Mapping[str, dict[str, dict[str, ParamValue]]] | None = None) -> None:
        super().__init__(engines or {})
        self.prompts: dict[str, dict[str, dict[str, ParamValue]]] = {k: dict(v) for k, v in (prompts or {}).items()}

    def for_edit(self, engine: str, text: str) -> dict[str, ParamValue]:
        """The set's defaults for an edit of ``engine`` with ``text``: the engine-wide ones, then the
        prompt's own."""
        return {**self.get(engine, {}), **self.prompts.get(engine, {}).get(prompt_defaults_key(text), {})}

    def origin(self, engine: str, text: str, name: str) -> str | None:
        """Where the set's default for ``name`` comes from: "prompt", "modelset" or None (the engine's)."""
        if name in self.prompts.get(engine, {}).get(prompt_defaults_key(text), {}):
            return "prompt"
        return "modelset" if name in self.get(engine, {}) else None


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
        return EngineDefaults()
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: 'engine_defaults' must be a mapping of engine -> {{parameter: value}}")
    engines: dict[str, dict[str, ParamValue]] = {}
    prompts: dict[str, dict[str, dict[str, ParamValue]]] = {}
    for engine, params in raw.items():
        spec = ENGINES.get(str(engine))
        if spec is None:
            raise ValueError(f"{where}: engine_defaults: unknown engine {engine!r} (engines: {', '.join(ENGINES)})")
        if not isinstance(params, Mapping):
            raise ValueError(f"{where}: engine_defaults.{engine} must be a mapping of parameter -> value")
        params = dict(params)
        per_prompt = params.pop("prompts", None) or {}
        if not isinstance(per_prompt, Mapping):
            raise ValueError(f"{where}: engine_defaults.{engine}.prompts must be a mapping of prompt -> "
                             f"{{parameter: value}}")
        table = _checked_params(spec, params, f"{where}: engine_defaults.{engine}")
        engines[spec.name] = table
        for prompt, own in per_prompt.items():
            if not isinstance(own, Mapping):
                raise ValueError(f"{where}: engine_defaults.{engine}.prompts.{prompt} must be a mapping of "
                                 f"parameter -> value")
            key = prompt_defaults_key(str(prompt))
            if not key:
                raise ValueError(f"{where}: engine_defaults.{engine}.prompts: an empty prompt")
            prompts.setdefault(spec.name, {})[key] = _checked_params(
                spec, own, f"{where}: engine_defaults.{engine}.prompts.{prompt}", table)
    return EngineDefaults(engines, prompts)


def _checked_params(spec: EngineSpec, params: Mapping[Any, Any], where: str,
                    under: Mapping[str, ParamValue] | None = None) -> dict[str, ParamValue]:
    """``params`` in their parameters' types, normalised; ValueError naming ``where`` for an unknown
    parameter, a value it does not take, or (with ``under``, the defaults they override, and the
    engine's) a broken rule."""
    table: dict[str, ParamValue] = {}
    for name, value in params.items():
        param = spec.params.get(str(name))
        if param is None:
            raise ValueError(f"{where}: unknown parameter {name!r} ({spec.name} takes: {', '.join(spec.params)})")
        typed = typed_value(value, param)
        if typed is None:
            wants = param.constraint.describe() if param.constraint is not None else param.type
            raise ValueError(f"{where}.{name}: {value!r} is not allowed (a {param.type}, {wants})")
        table[str(name)] = typed
    table = spec.normalise(table)
    for rule in spec.broken_rules({**spec.defaults(), **(under or {}), **table}):
        raise ValueError(f"{where}: {rule.message}")
    return table
