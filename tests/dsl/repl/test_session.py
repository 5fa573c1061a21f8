"""ReplSession on a fake executor: lines are checked against the session, run
incrementally, accepted only when they ran; undo/redo; saving as a recipe."""
from __future__ import annotations


import numpy as np
import pytest
from PIL import Image

from styleclip_dsl.api import compile_recipe
from styleclip_dsl.repl.session import ReplError, ReplSession

from .fakes import FakeFactory


@pytest.fixture()
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture()
def session(factory, tmp_path) -> ReplSession:
    return ReplSession(factory, base_dir=tmp_path, out_dir=tmp_path, preview_dir=tmp_path / "preview")


def ran_kinds(session: ReplSession) -> list[str]:
    """The kinds of the steps the last run executed."""
    last = session.executor.runs[-1]
    kinds = {s["id"]: s["kind"] for s in session.plan["steps"]} if session.plan else {}
    return [kinds.get(i, "?") for i in last["ran"]]


def test_each_line_runs_only_what_it_adds(session):
    assert session.submit("generate seeds=[1, 2] as a").status == "ok"
    assert session.executor.runs[-1]["ran"] == ["s1"]
    assert session.submit("global 'smile' alpha=3").status == "ok"
    assert session.executor.runs[-1]["ran"] == ["s2"]
    assert session.submit("save out/{name}.png").status == "ok"
    assert ran_kinds(session) == ["save"]
    assert session.entries == ["generate seeds=[1, 2] as a", "global 'smile' alpha=3", "save out/{name}.png"]


def test_a_typo_is_reported_against_the_line_and_changes_nothing(session):
    session.submit("generate seeds=[1, 2] as a")
    runs = len(session.executor.runs)
    outcome = session.submit("gloabl 'smile'")
    assert outcome.status == "invalid"
    [diag] = outcome.diagnostics
    assert (diag.span.line, diag.span.column, diag.span.end_column) == (1, 1, 7)
    assert diag.hint == "did you mean 'global'?"
    assert diag.context == "gloabl 'smile'"
    assert session.entries == ["generate seeds=[1, 2] as a"]
    assert len(session.executor.runs) == runs  # nothing ran


def test_names_are_checked_against_the_session(session):
    session.submit("generate seed=1 as a")
    outcome = session.submit("on b")
    assert outcome.status == "invalid"
    assert "'b'" in outcome.diagnostics[0].message
    assert "a" in (outcome.diagnostics[0].hint or "")
    assert session.submit("generate seed=2 as b").status == "ok"
    assert session.submit("on a").status == "ok"
    assert session.facts().current == "a"


def test_an_error_in_the_second_line_of_a_multi_line_entry_points_at_that_line(session):
    session.submit("generate seed=1")
    outcome = session.submit("global 'smile'\nglobal 'x' alpah=2")
    assert outcome.status == "invalid"
    [diag] = outcome.diagnostics
    assert diag.span.line == 2
    assert diag.span.column == 12
    assert session.entries == ["generate seed=1"]


def test_a_runtime_error_shows_the_step_and_hint_and_keeps_the_session(session):
    session.submit("generate seed=1")
    outcome = session.submit("generate seed=2 as b; global 'boom'")
    assert outcome.status == "failed"
    [diag] = outcome.diagnostics
    assert diag.message == "the engine blew up"
    assert diag.hint == "try another prompt"
    assert (diag.span.line, diag.span.column) == (1, 23)  # the edit inside the typed line
    assert session.entries == ["generate seed=1"]
    assert session.facts().subjects == ["samples"]


def test_an_interrupted_line_is_dropped_and_the_next_line_works(session):
    session.submit("generate seed=1")
    assert session.submit("optimize 'slow' steps=100000").status == "interrupted"
    assert session.entries == ["generate seed=1"]
    assert session.submit("global 'smile'").status == "ok"
    assert ran_kinds(session) == ["edit"]


def test_warnings_already_shown_are_not_repeated(session):
    session.submit("invert photos/*.png")
    first = session.submit("save out/x.png")
    assert [d.code for d in first.diagnostics] == ["W-overwrite"]
    second = session.submit("global 'smile'")
    assert second.status == "ok"
    assert second.diagnostics == []


def test_undo_restores_the_previous_plan_without_running_and_redo_brings_the_line_back(session):
    session.submit("generate seed=1")
    session.submit("global 'smile' alpha=1")
    plan_before = session.plan
    session.submit("then global 'wide' alpha=5")
    runs = len(session.executor.runs)
    assert session.undo() == "then global 'wide' alpha=5"
    assert session.plan == plan_before
    assert len(session.executor.runs) == runs
    assert session.redo_stack == ["then global 'wide' alpha=5"]
    outcome = session.redo()
    assert outcome.status == "ok"
    assert session.entries[-1] == "then global 'wide' alpha=5"
    assert session.redo_stack == []
    # the fused edit was already computed before the undo: redo re-ran nothing
    assert session.executor.runs[-1]["ran"] == []


def test_a_new_line_clears_the_redo_stack(session):
    session.submit("generate seed=1")
    session.submit("global 'smile'")
    session.undo()
    session.submit("global 'frown'")
    with pytest.raises(ReplError):
        session.redo()


def test_undo_on_an_empty_session_is_an_error(session):
    with pytest.raises(ReplError, match="nothing to undo"):
        session.undo()


def test_a_save_line_rewrites_its_file_when_it_comes_back(session, tmp_path):
    session.submit("generate seed=1")
    session.submit("save out/a.png")
    (tmp_path / "out" / "a.png").write_text("stale")
    session.undo()
    assert session.redo().status == "ok"
    assert (tmp_path / "out" / "a.png").read_text() == session.text


def test_models_flag_with_a_yaml_path_keeps_the_plan_and_opens_that_file(factory, tmp_path):
    session = ReplSession(factory, models="/sets/tiny.yaml", device="cpu", base_dir=tmp_path, out_dir=tmp_path)
    session.submit("use toon")
    session.submit("generate seed=1")
    assert factory.made[-1].key == ("/sets/tiny.yaml", "cpu")
    assert session.plan["modelset"] == "toon"


def test_a_use_line_switches_the_warm_models(factory, tmp_path):
    session = ReplSession(factory, base_dir=tmp_path, out_dir=tmp_path)
    session.submit("generate seed=1")
    assert factory.made[-1].key == ("toon", None)
    session.submit("use ffhq")
    assert factory.made[-1].key == ("ffhq", None)
    assert len(factory.made) == 2


def test_save_writes_a_recipe_that_compiles_to_the_session_plan(session, tmp_path):
    for line in ["generate seeds=[1,2] as a", "# try a smile", "global 'smile' alpha=3",
                 "save out/{name}.png; global 'frown'"]:
        assert session.submit(line).accepted
    saved = session.save(tmp_path / "session.recipe")
    text = (tmp_path / "session.recipe").read_text()
    assert text == saved.text
    assert text.splitlines() == ["generate seeds=[1, 2] as a", "# try a smile", "global 'smile' alpha=3",
                                 "save out/{name}.png", "global 'frown'"]
    plan, _ = compile_recipe(text, "session.recipe")
    assert [s.hash for s in plan.steps] == [s["hash"] for s in session.plan["steps"]]


def test_save_restamps_the_outputs_with_the_saved_text(session, tmp_path):
    session.submit("generate seed=1")
    session.submit("save out/a.png")
    session.submit("global 'smile'")
    session.submit("save out/b.png")
    assert (tmp_path / "out" / "a.png").read_text() == "generate seed=1\nsave out/a.png\n"
    saved = session.save(tmp_path / "s.recipe")
    assert sorted(p.name for p in saved.restamped) == ["a.png", "b.png"]
    assert (tmp_path / "out" / "a.png").read_text() == saved.text
    assert (tmp_path / "out" / "b.png").read_text() == saved.text
    last = session.executor.runs[-1]
    assert last["incremental"] is False and last["text"] == saved.text


def test_saving_an_empty_session_is_an_error(session, tmp_path):
    with pytest.raises(ReplError):
        session.save(tmp_path / "x.recipe")
    assert not (tmp_path / "x.recipe").exists()


def test_show_renders_the_latest_result_of_the_current_subject(session, tmp_path):
    session.submit("generate seed=2 as a")
    session.submit("global 'smile' alpha=4")
    session.submit("generate seed=5 as b")
    shown = session.show()
    assert (shown.subject, shown.line, shown.items) == ("b", 3, 1)
    # the fake generator paints the mean of the code: seed 5 -> 0.5 -> (0.5 + 1) * 127.5
    assert shown.pixels.shape == (4, 4, 3)
    assert int(shown.pixels[0, 0, 0]) == round(1.5 * 127.5)
    shown_a = session.show("a")
    assert (shown_a.subject, shown_a.line) == ("a", 2)
    assert int(shown_a.pixels[0, 0, 0]) == round((1 + 0.2 + 0.4) * 127.5)
    on_disk = np.asarray(Image.open(shown_a.path))
    assert np.array_equal(on_disk, shown_a.pixels)
    assert shown_a.path.parent == tmp_path / "preview"


def test_show_of_a_fused_chain_shows_the_end_of_the_chain(session):
    session.submit("generate seed=0")
    session.submit("global 'a' alpha=2")
    session.submit("then global 'b' alpha=3")
    assert len([s for s in session.plan["steps"] if s["kind"] == "edit"]) == 1  # fused
    shown = session.show()
    assert shown.line == 2
    assert int(shown.pixels[0, 0, 0]) == round((1 + 0.0 + 0.2) * 127.5)


def test_show_of_a_batch_is_one_row(session):
    session.submit("generate seeds=[1, 2, 3]")
    shown = session.show()
    assert shown.items == 3
    assert shown.pixels.shape[1] > 3 * shown.pixels.shape[0] // 2


def test_show_of_an_unknown_subject_suggests_one(session):
    session.submit("generate seed=0 as portrait")
    with pytest.raises(ReplError, match="portrait"):
        session.show("portriat")


def test_known_prompts_are_mappers_then_session_prompts(session):
    session.submit("generate seed=0")
    session.submit("global 'curly hair'")
    session.submit("global 'smile'")
    assert session.known_prompts() == ["smile", "curly hair"]


def test_an_expectation_that_fails_keeps_the_line_and_says_so(session):
    session.submit("generate seed=0")
    outcome = session.submit("expect psnr() < 3")
    assert outcome.status == "ok"
    assert len(outcome.failed_expectations) == 1
    assert session.entries[-1] == "expect psnr() < 3"


def test_requesting_a_stop_reaches_the_executor(session):
    session.submit("generate seed=0")
    session.request_stop()
    assert session.executor.stops == 1


def test_a_model_file_given_to_the_repl_fills_the_defaults_from_its_yaml(tmp_path):
    """``repl --models FILE``: what an edit leaves out comes from that file's engine_defaults (and a
    prompt's own entry there), not from the default set's, as `styleclip run --models FILE` does."""
    yaml = tmp_path / "mine.yaml"
    yaml.write_text("schema: 1\nname: mine\nengine_defaults: {global: {alpha: 2.5, prompts: {smile: {beta: 0.05}}}}\n")
    session = ReplSession(FakeFactory(), models=str(yaml), base_dir=tmp_path, out_dir=tmp_path)
    plan, diagnostics = session.compile("generate seed=1\nglobal 'smile'\nglobal 'beard'\n")
    assert plan is not None, diagnostics
    smile, beard = (s["edits"][0]["params"] for s in plan["steps"] if s["kind"] == "edit")
    assert (smile["alpha"], smile["beta"]) == (2.5, 0.05)
    assert (beard["alpha"], beard["beta"]) == (2.5, 0.15)
