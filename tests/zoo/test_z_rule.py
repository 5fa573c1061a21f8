"""The judges agree with the renderer's truth on toon-G samples: each judge the set ships reads, on
samples whose attributes the z rule fixed, the rule's value about as often as docs/toon.md states."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COUNT = 200  # the first 200 of the card's 500 samples (seed 2024, psi 1)
MARGIN = 0.03  # about one standard error at 85 % on 200 samples: the sample is fixed, so this is not flaky


def card_rule_agreement() -> dict[str, float]:
    """The card's 'Share of samples in which the judge reads the attribute the z rule asked for' line."""
    card = (ROOT / "docs" / "toon.md").read_text()
    line = re.search(r"z rule asked\s+for \(psi 1\):(.*?)\.\n\n", card, flags=re.S).group(1)
    figures = dict(re.findall(r"([a-z ]+?) (\d+) %", " ".join(line.split())))
    return {name.strip().replace(" ", "_").replace("colour", "color"): int(v) / 100 for name, v in figures.items()}


@pytest.fixture(scope="module")
def samples():
    import torch

    from styleclip_runtime.models.modelset import ModelSet
    from styleclip_zoo.toon.evaluate_generator import generator_samples, sample_z

    ms = ModelSet.load("toon")
    with torch.no_grad():
        x = generator_samples(ms.generator, COUNT, seed=2024)
    return ms, x, sample_z(ms.generator, COUNT, 2024)


def test_the_card_states_every_family():
    from styleclip_zoo.toon.attributes import FAMILIES

    assert set(card_rule_agreement()) == set(FAMILIES)


def test_every_shipped_judge_reads_the_z_rules_attributes_as_the_card_says(samples):
    from styleclip_zoo.toon.evaluate_generator import judge_probabilities, rule_agreement

    ms, x, z = samples
    stated = card_rule_agreement()
    for role, judge in ms.judges:
        measured = rule_agreement(judge_probabilities(judge, x), z)
        low = {f: round(v, 3) for f, v in measured.items() if v < stated[f] - MARGIN}
        assert not low, f"{role} reads the rule's value less often than the card states: {low}"
