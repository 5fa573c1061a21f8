"""The engine implementations by the name a recipe uses: the runtime's half of
``styleclip_dsl.engines.registry.ENGINES`` (one spec, one implementation, per engine)."""
from __future__ import annotations

from styleclip_dsl.engines.registry import ENGINES as SPECS

from .global_directions.engine import GlobalDirections
from .mapper.engine import Mapper
from .optimization.engine import Optimization
from .protocol import Engine

IMPLEMENTATIONS: dict[str, Engine] = {e.spec.name: e for e in (GlobalDirections(), Mapper(), Optimization())}
if set(IMPLEMENTATIONS) != set(SPECS):  # a spec without an implementation, or the reverse: a packaging error
    raise ImportError(f"engine specs {sorted(SPECS)} and implementations {sorted(IMPLEMENTATIONS)} differ")


def engine_for(name: str) -> Engine:
    """The implementation of engine ``name`` (KeyError for a name no spec has)."""
    return IMPLEMENTATIONS[name]
