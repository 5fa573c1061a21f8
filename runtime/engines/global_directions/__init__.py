"""The ``global`` engine: global directions in StyleSpace (StyleCLIP §3).

``directions.py`` is the math (statistics, the relevance table fs3, a text's direction at beta);
``engine.py`` applies directions to a plan's edit steps. The math's names are importable from here.
"""
from .directions import (  # noqa: F401
    ENGINE_VERSION, BetaTooHigh, Direction, GlobalStats, apply_direction, clip_dim, compute_relevance,
    compute_style_stats, direction_from_relevance, load_official_fs3, load_official_s_mean_std, offset_of,
    relevance, relevance_without, sample_wplus, text_direction,
)
