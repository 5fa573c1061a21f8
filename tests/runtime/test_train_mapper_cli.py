"""`styleclip train mapper`: the mapper it trains is the one a recipe's `mapper`
step then uses, with nothing trained again, and only for the generator it was
trained for (a set rebuilt under the same name does not pick it up)."""
from __future__ import annotations

import torch
from styleclip_runtime.engines.mapper import apply_strength
from styleclip_runtime.models.mapper import load_mapper_checkpoint
from styleclip_runtime.models.modelset import ModelSet
from styleclip_runtime.execution.build_executor import open_executor
from typer.testing import CliRunner

from styleclip_dsl.cli import app

from .tiny_modelset import write_tiny_modelset


def test_a_trained_mapper_serves_its_generator_only(env, tmp_path) -> None:
    result = CliRunner().invoke(app, ["train", "mapper", "frown", "--models", str(env), "--steps", "3",
                                      "--batch", "2"])
    assert result.exit_code == 0, result.output
    path = ModelSet.load(str(env)).user_mapper_path("frown")
    assert path.exists() and str(path) in result.output.replace("\n", "")
    assert not list(path.parent.glob("*.training.pt"))  # the resume file is gone once training ends
    trained = load_mapper_checkpoint(path)
    assert trained.checkpoint_info.opts["description"] == "frown"

    models = open_executor(str(env), "cpu").models
    notices: list[str] = []
    used = models.mapper("frown", None, notices.append)
    assert notices == []  # the registered file, not a fresh training
    w = models.generator.mean_latent(8, seed=0).expand(2, models.generator.n_latent, -1).clone()
    w = w + 0.1 * torch.randn(w.shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(apply_strength(used, w, 1.0), apply_strength(trained, w, 1.0))
        assert not torch.equal(apply_strength(used, w, 1.0), w)

    # the same set name with another generator (a rebuild): that mapper is not its mapper
    rebuilt = write_tiny_modelset(tmp_path / "rebuilt", name="tiny", seed=1)
    other = ModelSet.load(str(rebuilt))
    assert other.name == ModelSet.load(str(env)).name
    assert other.user_mapper_path("frown") != path and not other.user_mapper_path("frown").exists()
    notices.clear()
    open_executor(str(rebuilt), "cpu").models.mapper("frown", None, notices.append)
    assert len(notices) == 1 and "training one now" in notices[0]  # the tiny set trains on first use


def test_train_mapper_space_w_and_keep_reach_the_recipe(env) -> None:
    """``--space w --keep``: the registered file is a W-space mapper (one offset on every row) that
    the recipe's ``mapper`` step serves as such; keeping the mapper's own text is refused."""
    result = CliRunner().invoke(app, ["train", "mapper", "grin", "--models", str(env), "--steps", "2",
                                      "--batch", "2", "--space", "w", "--keep", "a beard, glasses"])
    assert result.exit_code == 0, result.output
    used = open_executor(str(env), "cpu").models.mapper("grin", None, lambda m: None)
    assert used.space == "w" and used.checkpoint_info.opts["keep"] == ["a beard", "glasses"]
    w = torch.randn(2, used.n_latent, used.style_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        step = apply_strength(used, w, 1.0) - w
    assert torch.allclose(step, step[:, :1].expand_as(step), atol=1e-6) and float(step.abs().sum()) > 0
    refused = CliRunner().invoke(app, ["train", "mapper", "grin", "--models", str(env), "--keep", "Grin"])
    assert refused.exit_code != 0 and "own text" in refused.output
    refused = CliRunner().invoke(app, ["train", "mapper", "grin", "--models", str(env), "--space", "s"])
    assert refused.exit_code != 0 and "--space" in refused.output
