"""The expect metrics: golden distance and its tolerance, golden paths, the judge's
attributes (the real Judge class, random weights), pixel metrics on known images."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from styleclip_runtime.execution import expect_metrics as metrics
from styleclip_zoo.toon.attributes import FAMILIES
from styleclip_runtime.models.judge import Judge, JudgeConfig


def save(path: Path, px: np.ndarray) -> Path:
    Image.fromarray(px).save(path)
    return path


@pytest.fixture()
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(1, 255, size=(8, 8, 3), dtype=np.uint8)  # 1..254: room for +-1 steps


def test_golden_distance_is_zero_for_the_same_pixels(tmp_path, image):
    assert metrics.golden_distance(image, save(tmp_path / "g.png", image)) == 0.0


def test_golden_distance_is_the_mean_absolute_difference_in_unit_range(tmp_path, image):
    changed = image.copy()
    changed[3, 4] = [0, 0, 0]
    expected = image[3, 4].astype(np.float64).sum() / 255.0 / image.size
    assert metrics.golden_distance(changed, save(tmp_path / "g.png", image)) == pytest.approx(expected, rel=1e-5)


def test_tol_forgives_differences_up_to_tol_and_keeps_larger_ones_whole(tmp_path, image):
    golden = save(tmp_path / "g.png", image)
    one_step = image + 1
    assert metrics.golden_distance(one_step, golden) == pytest.approx(1 / 255, rel=1e-5)
    assert metrics.golden_distance(one_step, golden, tol=1 / 255) == 0.0
    two_steps = image + 2
    assert metrics.golden_distance(two_steps, golden, tol=1 / 255) == pytest.approx(2 / 255, rel=1e-5)


def test_golden_of_another_size_is_a_metric_error(tmp_path, image):
    with pytest.raises(metrics.MetricError, match="8x8.*update-golden"):
        metrics.golden_distance(np.zeros((4, 4, 3), np.uint8), save(tmp_path / "g.png", image))


def test_golden_paths_fill_placeholders_relative_to_the_recipe(tmp_path):
    labels = [{"name": "ada", "alpha": 1.5}, {"name": "bo", "alpha": 1.5}]
    paths = metrics.golden_paths("golden/{name}_{alpha}.png", labels, tmp_path)
    assert paths == [tmp_path / "golden/ada_1.5.png", tmp_path / "golden/bo_1.5.png"]


def test_one_golden_file_for_several_items_is_refused(tmp_path):
    with pytest.raises(metrics.MetricError, match=r"2 items one file.*\{name\}"):
        metrics.golden_paths("golden/g.png", [{"name": "ada"}, {"name": "bo"}], tmp_path)


def test_evaluate_golden_compares_each_item_with_its_file(tmp_path, image):
    other = np.clip(image.astype(int) + 10, 0, 255).astype(np.uint8)
    save(tmp_path / "ada.png", image)
    save(tmp_path / "bo.png", image)
    values = metrics.evaluate(None, "golden", ["{name}.png"], {}, torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 8, 8),
                              [image, other], tmp_path, [{"name": "ada"}, {"name": "bo"}])
    assert values[0] == 0.0
    assert values[1] == pytest.approx(np.abs(other.astype(float) - image).mean() / 255, rel=1e-5)


def test_missing_golden_names_the_file_and_the_fix(tmp_path, image):
    with pytest.raises(metrics.MetricError, match=r"ada\.png does not exist.*--update-golden"):
        metrics.evaluate(None, "golden", ["{name}.png"], {}, torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8),
                         [image], tmp_path, [{"name": "ada"}])


def test_distance_and_psnr_on_known_images():
    src = torch.zeros(2, 3, 4, 4)
    res = src + 0.5  # 0.5 in [-1, 1] units = 0.25 in [0, 1]: mse 1/16
    assert metrics.evaluate(None, "distance", [], {}, res, src) == pytest.approx([0.5, 0.5])
    assert metrics.evaluate(None, "psnr", [], {}, res, src) == pytest.approx([10 * np.log10(16)] * 2, rel=1e-5)


def test_attribute_reads_the_real_judges_verdicts():
    torch.manual_seed(0)
    judge = Judge(JudgeConfig(families=dict(FAMILIES))).eval()
    images = torch.rand(3, 3, 64, 64) * 2 - 1
    models = SimpleNamespace(judge=judge, name="toon")
    verdicts = judge.predict(images)
    for family in ("hair_color", "expression"):
        values = metrics.evaluate(models, "attribute", [family], {}, images, images)
        assert values == [v.value(family) for v in verdicts]
        assert set(values) <= set(FAMILIES[family])


def test_attribute_of_an_unknown_family_lists_the_known_ones():
    judge = Judge(JudgeConfig(families=dict(FAMILIES))).eval()
    models = SimpleNamespace(judge=judge, name="toon")
    with pytest.raises(metrics.MetricError, match="unknown attribute family 'hat'.*hair_color"):
        metrics.evaluate(models, "attribute", ["hat"], {}, torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 64, 64))


def test_attribute_without_a_judge_says_it_is_a_toon_metric():
    models = SimpleNamespace(judge=None, name="ffhq")
    with pytest.raises(metrics.MetricError, match="'ffhq' has no attribute judge"):
        metrics.evaluate(models, "attribute", ["eyes"], {}, torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize("value,op,target,expected", [
    (0.3, ">", 0.2, True), (0.2, ">", 0.2, False), (0.2, ">=", 0.2, True), ("smile", "==", "smile", True),
    ("sad", "==", "smile", False), ("sad", "!=", "smile", True),
])
def test_compare(value, op, target, expected):
    assert metrics.compare(value, op, target) is expected


def test_text_cannot_be_ordered():
    with pytest.raises(metrics.MetricError, match="cannot compare text"):
        metrics.compare("smile", ">", "sad")


class _FixedJudge:
    """Reads every image as the given expressions, one per image."""

    def __init__(self, *expressions: str) -> None:
        self.expressions = expressions

    def predict(self, images: torch.Tensor) -> list[SimpleNamespace]:
        return [SimpleNamespace(attributes={"expression": (e, 0.9)}) for e in self.expressions[:len(images)]]


def test_attribute_with_two_judges_passes_only_where_both_agree():
    """toon ships two judges: ``expect attribute(expression) == 'smile'`` holds for an image only if
    both read a smile, and ``!= 'smile'`` only if neither does; the value says who saw what."""
    models = SimpleNamespace(judges=[("judge", _FixedJudge("smile", "smile", "neutral")),
                                     ("judge2", _FixedJudge("smile", "neutral", "neutral"))], name="toon")
    images = torch.zeros(3, 3, 64, 64)
    values = metrics.evaluate(models, "attribute", ["expression"], {}, images, images)
    assert [str(v) for v in values] == ["smile", "smile (judge) / neutral (judge2)", "neutral"]
    assert [metrics.compare(v, "==", "smile") for v in values] == [True, False, False]
    assert [metrics.compare(v, "!=", "smile") for v in values] == [False, False, True]
    with pytest.raises(metrics.MetricError, match="cannot compare text"):
        metrics.compare(values[1], ">", "smile")
    # one judge alone: a plain string, compared as before
    alone = SimpleNamespace(judges=[("judge", _FixedJudge("smile", "neutral"))], name="toon")
    assert metrics.evaluate(alone, "attribute", ["expression"], {}, images[:2], images[:2]) == ["smile", "neutral"]



def test_each_items_verdict_in_the_report_is_the_runtimes_not_a_comparison_of_the_text():
    """Where the judges differ (``purple (judge) / red (judge2)``), ``!= 'purple'`` fails for that
    item; the text alone would pass it. The report keeps the runtime's per-item verdicts, through
    its JSON (the output cache replays it) and into what `styleclip test` lists and writes."""
    from styleclip_dsl.commands.ci_results import expectations_from_report
    from styleclip_runtime.execution.report import ExpectResult, RunReport

    split = metrics.JudgedValue([("judge", "purple"), ("judge2", "red")])
    agreed = metrics.JudgedValue([("judge", "red"), ("judge2", "red")])
    item_passed = [metrics.compare(v, "!=", "purple") for v in (split, agreed)]
    assert item_passed == [False, True]
    result = ExpectResult("e1", 3, "attribute", "!=", "purple", [("a", split), ("b", agreed)], all(item_passed),
                          item_passed=item_passed)
    again = ExpectResult.from_dict(result.as_dict())
    assert again == ExpectResult("e1", 3, "attribute", "!=", "purple",
                                 [("a", "purple (judge) / red (judge2)"), ("b", "red")], False, None, [False, True])
    for report in (RunReport(expectations=[result]), RunReport(expectations=[again])):
        (e,) = expectations_from_report(report, "a\nb\nexpect attribute(hair_color) != 'purple'\n")
        assert [(m.item, m.passed) for m in e.measured] == [("a", False), ("b", True)] and not e.passed
    # a report written before the per-item verdicts were kept still reads, compared as text
    old = result.as_dict()
    for m in old["measured"]:
        del m["passed"]
    assert ExpectResult.from_dict(old).item_passed is None
