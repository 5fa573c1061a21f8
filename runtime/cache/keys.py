"""Every key the runtime files results under, in one place and without torch.

A key is ``make_key`` of everything that determines the result: the
version of the computation (bump it when the code's output changes), the
sha256 fingerprints of the model files involved and the parameters. The
executor uses these functions to store and find results, and
``styleclip plan --explain`` uses the same functions to say, before
anything runs, which results are already cached: the two cannot drift.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .result_cache import make_key

INVERT_VERSION = "invert-1"
STATS_VERSION = "global-stats-1"
GLOBAL_VERSION = "global-1"
MAPPER_VERSION = "mapper-1"
OPTIMIZE_VERSION = "optimize-1"

STATS_SEED = 5  # the sampling seed of the global-direction statistics

Fingerprints = Mapping[str, str]


def inversion_key(pixels_sha256: str, shape: Sequence[int], fps: Fingerprints) -> str:
    """An image (its decoded, cropped and resized pixels) through this encoder and generator."""
    return make_key(INVERT_VERSION, pixels_sha256, tuple(shape), fps.get("encoder"), fps.get("generator"))


def stats_key(fps: Fingerprints, n_samples: int, n_images: int, k: float) -> str:
    """StyleSpace means/stds and the fs3 relevance table of this generator + CLIP."""
    return make_key(STATS_VERSION, fps.get("generator"), fps.get("clip"), n_samples, n_images, k, STATS_SEED)


def stats_identity(fps: Fingerprints, n_samples: int, n_images: int, k: float) -> str:
    """Which global-direction statistics a model set uses: the digests of the files it ships
    (``global_stats:*`` roles), else the key they are computed and cached under."""
    shipped = sorted((role, digest) for role, digest in fps.items() if role.startswith("global_stats:"))
    return make_key("shipped-stats", shipped) if shipped else stats_key(fps, n_samples, n_images, k)


def direction_key(fps: Fingerprints, text: str, neutral: str, beta: float, stats: str,
                  keep: tuple[str, ...] = ()) -> str:
    """A global direction neutral -> text at threshold beta, from the statistics ``stats``
    (``stats_identity``: a set whose relevance table changes gets new directions), made
    orthogonal to the texts in ``keep`` (left out of the key when empty, so plain
    directions keep their keys)."""
    parts: tuple = (GLOBAL_VERSION, fps.get("generator"), fps.get("clip"), text, neutral, beta, stats)
    return make_key(*parts, list(keep)) if keep else make_key(*parts)


def mapper_key(fps: Fingerprints, text: str, opts: Mapping[str, Any]) -> str:
    """A mapper trained on first use for ``text`` with the options ``opts`` (the checkpoint's ``opts``)."""
    return make_key(MAPPER_VERSION, fps.get("generator"), fps.get("clip"), fps.get("identity"), text, opts)


def optimization_key(fps: Fingerprints, text: str, params: Mapping[str, Any], state_sha256: str,
                     depends: Mapping[str, str] | None = None) -> str:
    """One subject's latent optimization from the state (W+ code and S offset) whose bytes hash to
    ``state_sha256``. ``depends``: what else the result comes from, when it does (the statistics
    behind a channel mask, the source of the stds ``smooth`` scales by)."""
    parts: tuple = (OPTIMIZE_VERSION, text, params, state_sha256, fps.get("generator"), fps.get("clip"),
                    fps.get("identity"))
    return make_key(*parts, dict(depends)) if depends else make_key(*parts)


OUTPUTS_VERSION = "outputs-1"


def outputs_key(plan: Mapping[str, Any], recipe_text: str, fps: Fingerprints, spec_sha256: str,
                inputs: Mapping[str, Any], mapper_files: Sequence[Any], versions: Mapping[str, str]) -> str:
    """Every output file of a whole run (``cache_outputs``): its plan (every step's parameters,
    spans and output paths), the recipe text (PNGs carry it), the model files, the model-set YAML's
    bytes (its defaults), the bytes of every file a source step reads (``inputs``), the user-trained
    mapper files (``mapper_files``) and the package versions (the rendering code's)."""
    return make_key(OUTPUTS_VERSION, dict(plan), recipe_text, dict(fps), spec_sha256, dict(inputs),
                    list(mapper_files), dict(versions))


def with_synthesis_path(outputs: str, synthesis_path: str) -> str:
    """The key of a run's outputs (``outputs_key``) rendered on ``synthesis_path``
    (``execution/render_path.py``): the fused paths make other bytes, so each has its own entry;
    ``fast``, the path every run took before the choice existed, keeps the key unchanged."""
    return outputs if synthesis_path == "fast" else make_key(OUTPUTS_VERSION, outputs, synthesis_path)
