"""How an edit is scored: success where the target was absent, kept on every
other family (skin, and hair colour for bald, included), eyes not compared
behind sunglasses; with two judges, only what both see counts; intervals."""
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
    assert s.success == 1.0 and s.success_low < 1.0  # 2 of 2: the interval still reaches down
    families = ("hair_style", "hair_color", "expression", "eyes", "beard", "skin")  # every family counts
    assert s.kept == (len(families) - 0.5) / len(families)  # beard kept on 1 of 2 subjects, the rest on all
    assert s.worst_family == "beard" and s.kept_all == 0.5
    # without sunglasses, an eyes change does count
    s = score(Judge([Verdict()], [Verdict(eyes="closed", glasses="round")]), torch.zeros(1), torch.zeros(1),
              "glasses", "global")
    assert s.worst_family == "eyes" and s.worst_family_kept == 0.0


def test_bald_keeps_hair_colour_and_skin_counts():
    """No family is dropped for a prompt: a bald edit that recolours the eyebrows and beard, or one
    that changes skin, does not keep the rest."""
    before = [Verdict(), Verdict()]
    after = [Verdict(hair_style="bald", hair_color="white"), Verdict(hair_style="bald", skin="dark")]
    s = score(Judge(before, after), torch.zeros(2), torch.zeros(2), "bald", "global")
    assert s.success == 1.0 and s.kept_all == 0.0
    assert s.kept == (6 - 0.5 - 0.5) / 6  # hair_color and skin each kept on 1 of 2 subjects


def test_two_judges_count_an_edit_only_where_both_agree():
    # subject 0: both see the smile after; 1: only the first; 2: the second saw a smile before (not absent)
    first = Judge([Verdict(), Verdict(), Verdict()],
                  [Verdict(expression="smile"), Verdict(expression="smile"), Verdict(expression="smile")])
    second = Judge([Verdict(), Verdict(), Verdict(expression="smile")],
                   [Verdict(expression="smile"), Verdict(), Verdict(expression="smile", beard="beard")])
    s = score([first, second], torch.zeros(3), torch.zeros(3), "smile", "mapper", ["judge", "judge2"])
    assert s.absent_before == 2 and s.hits == 1 and s.success == 0.5 and s.judges == "judge+judge2"
    assert s.worst_family == "beard" and s.worst_family_kept == 2 / 3  # the second judge saw a beard appear


def test_one_judge_reading_sunglasses_does_not_hide_an_eyes_change_the_other_sees():
    """The eyes are left out only where every judge reads sunglasses: a judge that sees them does not vote
    on the eyes, the others still do (with two judges, the drawn glasses of a 'glasses' edit often read
    as sunglasses to one of them)."""
    # subject 0: the first judge reads sunglasses, the second round glasses and eyes now closed: a change;
    # subject 1: both read sunglasses after: the eyes are not compared at all;
    # subject 2: the first judge reads sunglasses, the second sees the eyes unchanged: kept
    first = Judge([Verdict(), Verdict(), Verdict()],
                  [Verdict(glasses="sunglasses", eyes="closed"), Verdict(glasses="sunglasses", eyes="closed"),
                   Verdict(glasses="sunglasses", eyes="closed")])
    second = Judge([Verdict(), Verdict(), Verdict()],
                   [Verdict(glasses="round", eyes="closed"), Verdict(glasses="sunglasses", eyes="closed"),
                    Verdict(glasses="round")])
    s = score([first, second], torch.zeros(3), torch.zeros(3), "glasses", "global", ["judge", "judge2"])
    assert s.success == 1.0
    assert s.worst_family == "eyes" and s.worst_family_kept == 0.5  # compared on subjects 0 and 2, kept on 2
    assert s.kept_all == 2 / 3


def test_wilson_interval_matches_the_textbook_values():
    from styleclip_zoo.toon.eval_protocol import wilson

    ci = wilson(8, 10)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 10).low == 0.0 and round(wilson(0, 10).high, 4) == 0.2775
    assert wilson(64, 64).high == 1.0 and round(wilson(64, 64).low, 3) == 0.943
    assert wilson(51, 64).text() == "0.80 (0.68-0.88)"
