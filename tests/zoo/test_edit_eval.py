"""How an edit is scored: success where the target was absent, kept on the
other families, eyes not compared behind sunglasses."""
from __future__ import annotations

import torch

from styleclip_zoo.toon.edit_eval import score


class Verdict:
    def __init__(self, **values: str) -> None:
        base = {"hair_style": "short", "hair_color": "brown", "expression": "neutral", "eyes": "open",
                "glasses": "none", "beard": "none", "skin": "tan"}
        self.values = base | values
        self.attributes = tuple(self.values)

    def value(self, family: str) -> str:
        return self.values[family]


class Judge:
    """Returns the verdicts it was given for 'before' (first call) and 'after' (second)."""

    def __init__(self, before: list[Verdict], after: list[Verdict]) -> None:
        self.calls = [before, after]

    def predict(self, images: torch.Tensor) -> list[Verdict]:
        return self.calls.pop(0)


def test_success_counts_only_subjects_without_the_target_before():
    before = [Verdict(), Verdict(), Verdict(hair_color="purple")]
    after = [Verdict(hair_color="purple"), Verdict(), Verdict(hair_color="purple")]
    s = score(Judge(before, after), torch.zeros(3), torch.zeros(3), "purple hair", "global")
    assert s.absent_before == 2 and s.success == 0.5 and s.kept == 1.0


def test_kept_counts_changed_families_and_ignores_eyes_behind_sunglasses():
    before = [Verdict(), Verdict()]
    # subject 0: sunglasses hide the eyes (judged 'closed'): not a change; subject 1: the beard appeared
    after = [Verdict(glasses="sunglasses", eyes="closed"), Verdict(glasses="round", beard="beard")]
    s = score(Judge(before, after), torch.zeros(2), torch.zeros(2), "glasses", "mapper")
    assert s.success == 1.0
    families = ("hair_style", "hair_color", "expression", "eyes", "beard")  # skin is not counted
    assert s.kept == (len(families) - 0.5) / len(families)  # beard kept on 1 of 2 subjects, the rest on all
    assert s.worst_family == "beard" and s.kept_all == 0.5
    # without sunglasses, an eyes change does count
    s = score(Judge([Verdict()], [Verdict(eyes="closed", glasses="round")]), torch.zeros(1), torch.zeros(1),
              "glasses", "global")
    assert s.worst_family == "eyes" and s.worst_family_kept == 0.0
