"""Check-time knowledge of the installed model sets (model_names.py): `use toonz` is an error with a
did-you-mean; a mapper prompt that no shipped or trained mapper has is a warning with one (training a
new prompt is legitimate); without the names (api.check alone) neither is reported."""
from __future__ import annotations

from pathlib import Path

from styleclip_dsl.api import check, compile_recipe
from styleclip_dsl.model_names import ModelNames


def test_unknown_model_set_is_an_error_with_did_you_mean() -> None:
    names = ModelNames.discover()
    assert names is not None and {"toon", "ffhq"} <= set(names.modelsets)
    _, [d] = check("use toonz\ngenerate seed=1\n", "r.sc", names)
    assert (d.code, d.severity, d.span.line, d.span.column, d.hint) == (
        "E-unknown-modelset", "error", 1, 5, "did you mean 'toon'?")
    _, found = check("use ffhq\ngenerate seed=1\n", "r.sc", names)
    assert found == []
    assert check("use toonz\ngenerate seed=1\n", "r.sc")[1] == []  # no names, no model-set checks
    # --set use=toonz is checked the same way through compile_recipe's default set... only when used
    plan, _ = compile_recipe("generate seed=1\nmapper 'smile'\n", "r.sc", {"use": "toon"}, names=names)
    assert plan is not None


def test_mapper_prompt_without_mapper_warns_with_did_you_mean(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    names = ModelNames.discover()
    _, [d] = check("generate seed=1\nmapper 'smiel' strength=2\n", "r.sc", names)
    assert (d.code, d.severity, d.span.line, d.span.column) == ("W-new-mapper", "warning", 2, 8)
    assert d.message == "no mapper for 'smiel' in model set 'toon'"
    assert d.hint.startswith("did you mean 'smile'?") and "styleclip run --train" in d.hint
    # shipped prompts match however they are spelled; a far-off prompt lists what there is
    assert check("generate seed=1\nmapper 'Curly_Hair'\n", "r.sc", names)[1] == []
    _, [far] = check("generate seed=1\nmapper 'a pirate hat'\n", "r.sc", names)
    assert "mappers: smile, curly hair" in far.hint
    # a set that does not train by itself says how to train one
    _, [ffhq] = check("use ffhq\ngenerate seed=1\nmapper 'smiel'\n", "r.sc", names)
    assert "styleclip train mapper 'smiel' --models ffhq" in ffhq.hint
    # a mapper trained for another generator (an old one of the set) is not used by the run: still new
    from styleclip_runtime.modelsets.registry import find_spec

    mappers = Path(tmp_path / "cache" / "models" / "toon" / "mappers")
    (mappers / "0123456789abcdef").mkdir(parents=True)
    (mappers / "0123456789abcdef" / "pirate_hat.pt").write_bytes(b"")
    _, [old] = check("generate seed=1\nmapper 'pirate hat'\n", "r.sc", ModelNames.discover())
    assert (old.code, old.message) == ("W-new-mapper", "no mapper for 'pirate hat' in model set 'toon'")
    # a mapper trained with `styleclip train mapper` (in the folder of the set's generator digest, as
    # ModelSet.user_mapper_path) counts, and is offered as a close match
    digest = find_spec("toon").generator.file.sha256
    assert digest is not None  # toon pins its generator
    trained = mappers / digest[:16]
    trained.mkdir()
    (trained / "pirate_hat.pt").write_bytes(b"")
    names = ModelNames.discover()
    assert check("generate seed=1\nmapper 'pirate hat'\n", "r.sc", names)[1] == []
    _, [close] = check("generate seed=1\nmapper 'pirate hta'\n", "r.sc", names)
    assert close.hint.startswith("did you mean 'pirate hat'?")
    # a set whose YAML pins no generator digest: a mapper in any folder counts
    assert find_spec("ffhq").generator is None or find_spec("ffhq").generator.file.sha256 is None
    other = Path(tmp_path / "cache" / "models" / "ffhq" / "mappers" / "0123456789abcdef")
    other.mkdir(parents=True)
    (other / "pirate_hat.pt").write_bytes(b"")
    assert check("use ffhq\ngenerate seed=1\nmapper 'pirate hat'\n", "r.sc", ModelNames.discover())[1] == []


def test_models_file_decides_the_set_the_hints_use() -> None:
    from styleclip_runtime.modelsets.registry import BUILTIN_DIR

    recipe = "use ffhq\ngenerate seed=1\nmapper 'smile'\n"
    _, [d] = check(recipe, "r.sc", ModelNames.discover())  # ffhq ships no smile mapper
    assert d.code == "W-new-mapper" and "model set 'ffhq'" in d.message
    # `run --models toon.yaml` runs on toon whatever `use` says: toon has a smile mapper
    assert check(recipe, "r.sc", ModelNames.discover(forced=str(BUILTIN_DIR / "toon.yaml")))[1] == []


def test_a_mapper_a_run_trained_on_first_use_is_known_and_offered(tmp_path, monkeypatch) -> None:
    """A mapper trained by a run (auto_train_mappers) lives in the set's results cache under a hashed key;
    its record there (cache/trained_mappers.py) names the prompt, so `check` neither warns about it nor
    fails to offer it, for the set's generator only and while the checkpoint is cached. The fake
    checkpoint below is never read: only the record is."""
    from styleclip_runtime.cache.result_cache import Cache
    from styleclip_runtime.cache.trained_mappers import record_trained_mapper
    from styleclip_runtime.execution.build_executor import results_cache_dir
    from styleclip_runtime.modelsets.registry import find_spec

    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("STYLECLIP_RESULTS_CACHE", raising=False)
    spec = find_spec("toon")
    cache = Cache(results_cache_dir(spec))
    mine, other = "ab" * 32, "cd" * 32
    record_trained_mapper(cache, mine, "a red nose", spec.generator.file.sha256)
    cache.put_bytes("mapper", mine, b"not a checkpoint")
    record_trained_mapper(cache, other, "a blue hat", "0" * 64)  # trained for another generator
    cache.put_bytes("mapper", other, b"not a checkpoint")
    names = ModelNames.discover()
    assert check("generate seed=1\nmapper 'a red nose'\n", "r.sc", names)[1] == []
    _, [close] = check("generate seed=1\nmapper 'a red nsoe'\n", "r.sc", names)
    assert close.hint.startswith("did you mean 'a red nose'?")
    _, [new] = check("generate seed=1\nmapper 'a blue hat'\n", "r.sc", names)
    assert new.code == "W-new-mapper"
    (cache.root / Cache._entry_name("mapper", mine)).unlink()  # evicted: a run would train it again
    _, [evicted] = check("generate seed=1\nmapper 'a red nose'\n", "r.sc", ModelNames.discover())
    assert evicted.code == "W-new-mapper"
