"""An edit at toon's defaults (what a recipe that names no parameter gets) does what its text says as
*both* shipped judges see it: the target appears where neither saw it, and every other family stays
by both judges' reading (issue #25). Fast: global directions and mappers only, on the 32 subjects of
the protocol's tuning set that lack each target (the report set is never used here).

The cells are the prompts whose defaults meet both bars on the report set with the judges in
agreement (docs/toon.md); each floor sits a little under the figure measured on these subjects, so a
change that makes an edit weaker or less clean, or a judge that stops agreeing, fails here.
"""
from __future__ import annotations

import pytest
import torch

from styleclip_zoo.toon.edit_eval import score, subjects_without
from styleclip_zoo.toon.eval_protocol import TUNING

pytestmark = pytest.mark.slow

SUBJECTS = 32
# (engine, prompt): (success floor, kept floor), about two subjects under what these subjects gave on
# 2026-12-05 (success / kept): global glasses 1.00 / 0.89 (alpha 1 beta 0.25; eyes scored by every judge
# that can see them), closed eyes 0.81 / 0.85, beard 0.94 / 0.92;
# mapper closed eyes 0.88 / 0.89, surprised 0.94 / 0.84 (it keeps 0.86 on the report set);
# 2026-12-06: global curly hair 0.81 / 0.93 (alpha 4.5 beta 0.25)
FLOORS: dict[tuple[str, str], tuple[float, float]] = {
    ("global", "glasses"): (0.95, 0.85),
    ("global", "curly hair"): (0.75, 0.88),
    ("global", "closed eyes"): (0.75, 0.82),
    ("global", "beard"): (0.88, 0.88),
    ("mapper", "closed eyes"): (0.81, 0.86),
    ("mapper", "surprised"): (0.88, 0.80),
}


@pytest.fixture(scope="module")
def toon(tmp_path_factory):
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.execution.warm import WarmModels
    from styleclip_runtime.models.modelset import ModelSet

    ms = ModelSet.load("toon")
    return ms, WarmModels(ms, Cache(tmp_path_factory.mktemp("results")), "cpu")


def agreed_score(ms, models, engine: str, prompt: str):
    """Both judges' score of the edit at the set's defaults on the tuning subjects lacking the target."""
    from styleclip_runtime.execution.state import Item, render
    from styleclip_zoo.toon.edit_settings import Setting, apply, defaults

    names, judges = [n for n, _ in ms.judges], [j for _, j in ms.judges]
    g = models.generator
    with torch.no_grad():
        w = subjects_without(g, judges, prompt, SUBJECTS, TUNING, pool=256)
        before = render(g, [Item(f"s{i}", "t", i, w[i]) for i in range(len(w))], "cpu")
        setting = Setting(engine, prompt, "defaults", defaults(engine, ms.spec.engine_defaults, prompt))
        after = render(g, apply(models, setting, w), "cpu")
    return score(judges, before, after, prompt, engine, names), len(w)


def test_toon_ships_two_judges(toon):
    ms, _ = toon
    assert [name for name, _ in ms.judges] == ["judge", "judge2"]


@pytest.mark.parametrize("cell", sorted(FLOORS), ids=lambda c: f"{c[0]}-{c[1].replace(' ', '_')}")
def test_the_default_edit_holds_for_both_judges(toon, cell):
    engine, prompt = cell
    ms, models = toon
    s, n = agreed_score(ms, models, engine, prompt)
    success_floor, kept_floor = FLOORS[cell]
    assert n == SUBJECTS and s.judges == "judge+judge2"
    assert s.success >= success_floor, f"{engine} {prompt!r}: success {s.success:.2f} < {success_floor} ({s.setting})"
    assert s.kept >= kept_floor, f"{engine} {prompt!r}: kept {s.kept:.2f} < {kept_floor}, worst {s.worst_family}"
