"""attribute(family): the families are the model set's judge's (its judge config), not a front-end list."""
from __future__ import annotations

import json
from pathlib import Path

from styleclip_dsl.api import check
from styleclip_dsl.model_names import ModelNames

TOON = Path(__file__).resolve().parents[2] / "runtime" / "modelsets" / "toon"
HEAD = "generate seed=1\n"


def test_an_unknown_family_is_an_error_naming_the_judges_families():
    names = ModelNames.discover()
    shipped = tuple(json.loads((TOON / "judge_config.json").read_text())["families"])
    assert names.attribute_families("toon") == shipped
    _, [d] = check(HEAD + "expect attribute(hair) == 'curly'\n", "r.sc", names)
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E-unknown-family", 2, 18, 22)
    assert d.message == "unknown attribute family 'hair'"
    assert d.hint == "families: " + ", ".join(shipped)
    _, [close] = check(HEAD + "expect attribute(glases) == 'on'\n", "r.sc", names)
    assert close.hint == "did you mean 'glasses'?"
    for family in shipped:
        assert check(HEAD + f"expect attribute({family}) == 'x'\n", "r.sc", names)[1] == []


def test_the_families_follow_the_set_in_use(tmp_path):
    """A set whose judge reads other families (its YAML's judge config) is checked against those;
    a set without a judge, or a check without the model sets, has nothing to check against."""
    yaml_text = (TOON.parent / "toon.yaml").read_text().replace(
        "config: {}   # empty", "config: {families: {mood: [calm, wild]}}   #")
    (tmp_path / "toon").symlink_to(TOON)
    (tmp_path / "moody.yaml").write_text(yaml_text.replace("name: toon", "name: moody"))
    names = ModelNames.discover()
    moody = f"use '{tmp_path / 'moody.yaml'}'\n"
    assert check(moody + HEAD + "expect attribute(mood) == 'calm'\n", "r.sc", names)[1] == []
    _, [d] = check(moody + HEAD + "expect attribute(eyes) == 'open'\n", "r.sc", names)
    assert (d.code, d.hint) == ("E-unknown-family", "families: mood")
    assert check("use ffhq\n" + HEAD + "expect attribute(hair) == 'x'\n", "r.sc", names)[1] == []
    assert check(HEAD + "expect attribute(hair) == 'x'\n", "r.sc")[1] == []
