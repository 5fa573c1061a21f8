"""What the front end knows about an engine, as data: ``EngineSpec``.

One spec per engine (``global_directions.py``, ``mapper.py``, ``optimize.py``), gathered in
``registry.ENGINES``; the checker, the compiler, fusion, completion, the REPL's help, the training
gate and the runtime's dispatch read it, so no module outside the engine packages names an engine.
Torch-free: the implementations live in the runtime's ``engines/<engine>/`` packages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..constraints import OneOf
from ..param_spec import ParamSpec, ParamValue

# ``layers=``: the W+ levels an edit may change (StyleCLIP's coarse rows 0-3, medium 4-7, fine 8 on);
# the runtime's engines/layer_choice.py takes its list from here
LAYERS = ("all", "coarse", "medium", "fine", "coarse-medium", "medium-fine", "coarse-fine")
LAYERS_DOC = "the W+ levels the edit may change: all, coarse, medium, fine, or two joined by '-'"
LAYERS_PARAM = ParamSpec("string", "all", OneOf(LAYERS), LAYERS_DOC)


@dataclass(frozen=True)
class ParamRule:
    """A parameter that, set to anything but zero, needs another one at a given value
    (``optimize``'s ``beta`` masks StyleSpace channels, so it needs ``space=s``)."""

    param: str
    needs: str
    value: str
    code: str
    message: str
    hint: str

    def broken_by(self, params: Mapping[str, object]) -> bool:
        """Whether ``params`` (a parameter absent counts as its default) break the rule."""
        value = params.get(self.param)
        return isinstance(value, (int, float)) and value != 0 and params.get(self.needs) != self.value


@dataclass(frozen=True)
class EngineSpec:
    """An engine's parameters and the properties the front end and the dispatch need."""

    name: str
    summary: str
    params: Mapping[str, ParamSpec]
    # the parameters that enter the keys its results are cached under (the others apply afterwards,
    # e.g. a direction's alpha); a text-list parameter left empty enters no key
    cache_key_params: tuple[str, ...]
    fusable: bool = False          # consecutive unswept edits fold into one step (fusion.py)
    trains: bool = False           # a prompt without a shipped model trains one (the training gate)
    rules: tuple[ParamRule, ...] = ()
    # parameters holding comma-separated texts, normalised at compile time (keep.normalise_keep)
    text_lists: Mapping[str, Callable[[str], str]] = field(default_factory=dict)

    def defaults(self) -> dict[str, ParamValue]:
        """Every parameter with its default value."""
        return {name: spec.default for name, spec in self.params.items()}  # type: ignore[misc]

    def normalise(self, params: dict[str, ParamValue]) -> dict[str, ParamValue]:
        """``params`` as the plan carries them: text lists in their canonical form."""
        out = dict(params)
        for name, normalise in self.text_lists.items():
            if isinstance(out.get(name), str):
                out[name] = normalise(out[name])  # type: ignore[arg-type]
        return out

    def key_params(self, params: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        """The part of one edit's parameters that its cached results are filed under."""
        return {k: params[k] for k in self.cache_key_params
                if k in params and not (k in self.text_lists and params[k] == "")}

    def broken_rules(self, params: Mapping[str, object]) -> list[ParamRule]:
        """The rules ``params`` (every parameter, defaults filled) break."""
        return [r for r in self.rules if r.broken_by(params)]
