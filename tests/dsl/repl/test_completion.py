"""Completion: what Tab offers at each point of a statement."""
from __future__ import annotations


import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from styleclip_dsl.repl.completion import CompletionState, ReplCompleter, split_statement, suggest


@pytest.fixture()
def state(tmp_path) -> CompletionState:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "anna.png").write_bytes(b"")
    (tmp_path / "photos" / "ben.png").write_bytes(b"")
    (tmp_path / "portrait.jpg").write_bytes(b"")
    (tmp_path / ".hidden").write_bytes(b"")
    (tmp_path / "with space.png").write_bytes(b"")
    return CompletionState(subjects=["anna", "samples"], prompts=["smile", "curly hair", "it's red"],
                           commands={":help": "", ":history": "", ":show": "", ":save": ""},
                           help_topics=["engines", "edits", "metrics"], base_dir=tmp_path)


def texts(text: str, state: CompletionState) -> list[str]:
    return [s.text for s in suggest(text, state)]


def test_statement_keywords_at_the_start(state):
    assert texts("ge", state) == ["generate"]
    assert set(texts("", state)) >= {"invert", "generate", "apply", "then", "global", "save", "expect"}
    assert texts("invert x.png; o", state) == ["on", "optimize"]


def test_engine_parameters_after_the_text(state):
    assert texts("global 'smile' ", state) == ["alpha=", "beta=", "neutral=", "layers=", "keep="]
    assert texts("global 'smile' alpha=3 ", state) == ["beta=", "neutral=", "layers=", "keep="]
    assert texts("apply 'smile' via optimize st", state) == ["steps="]
    assert texts("then mapper 'smile' ", state) == ["strength=", "layers="]
    assert texts("optimize 'x' space=", state) == ["space=wplus", "space=s"]
    assert texts("mapper 'x' layers=medium", state) == ["layers=medium", "layers=medium-fine"]


def test_apply_asks_for_via_then_an_engine(state):
    assert texts("apply 'smile' v", state) == ["via"]
    assert texts("apply 'smile' via ", state) == ["global", "mapper", "optimize"]


def test_known_prompts_complete_quoted(state):
    assert texts("global 'cu", state) == ["'curly hair'"]
    assert texts("mapper ", state) == ["'smile'", "'curly hair'", '"it\'s red"']
    # the replacement covers the typed opening quote
    [item] = suggest("global 'cu", state)
    assert item.replace == 3


def test_a_quote_that_is_not_an_edit_text_gets_no_prompts(state):
    assert texts("expect clip('sm", state) == []


def test_subject_names_after_on_and_show(state):
    assert texts("on ", state) == ["anna", "samples"]
    assert texts("on s", state) == ["samples"]
    assert texts(":show a", state) == ["anna"]


def test_paths_after_invert_and_save(state):
    assert texts("invert pho", state) == ["photos/"]
    assert texts("invert photos/", state) == ["photos/anna.png", "photos/ben.png"]
    assert texts("invert photos/b", state) == ["photos/ben.png"]
    assert "portrait.jpg" in texts("save ", state)
    assert "grid" in texts("save ", state)
    assert texts("save grid p", state) == ["photos/", "portrait.jpg"]
    # hidden files only when asked for, names that need quotes never bare
    assert ".hidden" not in texts("invert ", state)
    assert texts("invert .h", state) == [".hidden"]
    assert not any("with space" in t for t in texts("invert w", state))


def test_generate_parameters_and_alias(state):
    assert texts("generate ", state) == ["seed=", "seeds=", "truncation=", "as"]
    assert texts("generate seeds=1..4 t", state) == ["truncation="]


def test_metrics_after_expect(state):
    assert texts("expect cl", state) == ["clip(", "clip_delta("]


def test_commands_and_help_topics(state):
    assert texts(":h", state) == [":help", ":history"]
    assert texts(":help e", state) == ["engines", "edits"]
    assert texts(":save p", state) == ["photos/", "portrait.jpg"]


def test_nothing_inside_a_comment(state):
    assert texts("global 'x' # al", state) == []


def test_split_statement_keeps_quoted_words_whole():
    assert split_statement("generate seed=1; apply 'curly hair' via gl") == (["apply", "'curly hair'", "via"], "gl",
                                                                             None)
    assert split_statement("global 'a; b") == (["global"], "'a; b", "'")


def test_the_prompt_toolkit_adapter_yields_the_same_suggestions(state):
    completer = ReplCompleter(lambda: state)
    got = list(completer.get_completions(Document("global 'smile' al"), CompleteEvent(completion_requested=True)))
    assert [(c.text, c.start_position) for c in got] == [("alpha=", -2)]
