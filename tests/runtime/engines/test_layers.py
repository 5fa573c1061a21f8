"""``layers=``: the rows each value names, for toon's 10 W+ rows and FFHQ's 18."""
from __future__ import annotations

import pytest

from styleclip_dsl.defaults import LAYERS
from styleclip_runtime.engines import layer_choice as layers


def rows(choice: str, n: int) -> list[int]:
    return [i for i, kept in enumerate(layers.kept_rows(choice, n)) if kept]


def test_levels_are_the_released_mappers_rows() -> None:
    assert rows("coarse", 18) == [0, 1, 2, 3]
    assert rows("medium", 18) == [4, 5, 6, 7]
    assert rows("fine", 18) == list(range(8, 18))
    assert rows("coarse-fine", 18) == [0, 1, 2, 3, *range(8, 18)]
    assert rows("all", 10) == list(range(10))
    assert rows("medium-fine", 10) == list(range(4, 10))
    assert layers.wplus_mask("all", 10) is None
    assert layers.wplus_mask("fine", 10).flatten().tolist() == [0.0] * 8 + [1.0] * 2


def test_every_value_the_language_allows_names_levels_the_runtime_knows() -> None:
    named = {choice: tuple(rows(choice, 18)) for choice in LAYERS}
    assert len(set(named.values())) == len(LAYERS)  # each value names its own rows
    assert named["all"] == tuple(range(18)) and all(named[c] for c in LAYERS)
    with pytest.raises(ValueError, match="layers='fine-coarse'"):
        layers.levels_of("fine-coarse")
