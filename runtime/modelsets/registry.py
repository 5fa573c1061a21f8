"""Model sets: YAML descriptions, cache-dir resolution, sha256 verification.

This module never imports torch, so that ``styleclip models list/verify``
stay fast. ``modelset.py`` (torch side) builds the networks from a spec.

Cache directory (the field's conventions):
``$STYLECLIP_CACHE`` if set, else ``$XDG_CACHE_HOME/styleclip``, else
``~/.cache/styleclip``. Model files of set ``NAME`` live in
``<cache>/models/NAME/``. Nothing is ever downloaded: a missing file raises
``MissingModelFile`` saying where to put it and the URL to fetch it from.

YAML schema (version 1)::

    schema: 1
    name: ffhq
    description: one line
    align:      ffhq                                 (optional; invert finds and FFHQ-aligns faces)
    generator:  {file: FILE, config: {size, style_dim, n_mlp, channel_multiplier, channel_max}}
    encoder:    {file: FILE, config: {E4EConfig fields}}
    clip:       {file: FILE, arch: open_clip name}  or  {file: FILE, config: open_clip model config}
    identity:   {file: FILE}                         (optional)
    judge:      {file: FILE, config: {...}}          (optional; toon)
    judge2:     {file: FILE, config: {...}}          (optional; a second, differently built judge that
                                                      `expect attribute` must agree with: toon)
    mappers:    {"prompt text": FILE, ...}           (optional)
    global_stats: {s_mean_std: FILE, fs3: FILE}      (optional)
    defaults:   {neutral: "a face", ...}             (optional)
    engine_defaults: {global: {alpha: 3, beta: 0.1, prompts: {smile: {alpha: 2}}}, mapper: {...}, ...}
                (optional; what the compiler fills for a parameter a recipe leaves out, before the
                engine's own default: an edit whose text is one of the engine's `prompts` takes that
                prompt's values first; checked against the engines' specs, styleclip_dsl/engines/)

    FILE = {name: file name in <cache>/models/<set>/}   or  {path: relative to the YAML, or absolute}
           + url: where to download it by hand (optional)
           + sha256: hex digest or null ("unpinned")
           + size: bytes or null
           + hf_hub: "org/repo" (optional; also look in the Hugging Face cache)
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from styleclip_dsl.engines.registry import EngineDefaults, validate_engine_defaults
# the normalised mapper prompt ("Purple hair" and "purple_hair" both give "purple_hair"): one definition,
# in the torch-free front end that checks prompts, re-exported for the runtime's mapper paths
from styleclip_dsl.model_names import prompt_key  # noqa: F401

SCHEMA_VERSION = 1
COMPONENTS = ("generator", "encoder", "clip", "identity", "judge", "judge2")
TOP_KEYS = {"schema", "name", "description", "align", *COMPONENTS, "mappers", "global_stats", "defaults",
            "engine_defaults"}
ALIGN_METHODS = ("ffhq",)  # `align:` values; absent: photos are centre-cropped and resized (toon)
FILE_KEYS = {"name", "path", "url", "sha256", "size", "hf_hub"}
BUILTIN_DIR = Path(__file__).resolve().parent


class ModelSetError(ValueError):
    """A model-set YAML is malformed or cannot be found."""


class MissingModelFile(FileNotFoundError):
    """A model file is not on disk; the message says where to put it."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a model set."""

    role: str  # "generator", "mapper:purple hair", "global_stats:fs3", ...
    name: str | None = None
    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    hf_hub: str | None = None

    @property
    def filename(self) -> str:
        return Path(self.path).name if self.path else str(self.name)


@dataclass(frozen=True)
class ComponentSpec:
    """A network of the set: its file and its architecture parameters."""

    file: FileSpec
    config: dict[str, Any] = field(default_factory=dict)
    arch: str | None = None


@dataclass(frozen=True)
class ModelSetSpec:
    """A parsed model-set YAML."""

    name: str
    description: str
    source: Path
    generator: ComponentSpec | None = None
    encoder: ComponentSpec | None = None
    clip: ComponentSpec | None = None
    identity: ComponentSpec | None = None
    judge: ComponentSpec | None = None
    judge2: ComponentSpec | None = None
    mappers: dict[str, FileSpec] = field(default_factory=dict)
    global_stats: dict[str, FileSpec] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    # {engine: {parameter: value}} and per prompt, checked and typed by
    # styleclip_dsl.engines.registry.validate_engine_defaults
    engine_defaults: EngineDefaults = field(default_factory=EngineDefaults)
    align: str | None = None  # how `invert` prepares a photo: "ffhq" (runtime/io/photos/align.py) or None

    def component(self, name: str) -> ComponentSpec | None:
        return getattr(self, name)

    def files(self) -> list[FileSpec]:
        """Every file of the set, components first."""
        out = [c.file for c in (self.component(n) for n in COMPONENTS) if c is not None]
        return out + list(self.mappers.values()) + list(self.global_stats.values())

    @property
    def cache_dir(self) -> Path:
        return models_dir(self.name)


# -- cache directory ----------------------------------------------------------------

def cache_root(env: dict[str, str] | None = None) -> Path:
    """``$STYLECLIP_CACHE``, else ``$XDG_CACHE_HOME/styleclip``, else ``~/.cache/styleclip``."""
    env = os.environ if env is None else env
    if env.get("STYLECLIP_CACHE"):
        return Path(env["STYLECLIP_CACHE"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]).expanduser() / "styleclip"
    return Path.home() / ".cache" / "styleclip"


def models_dir(set_name: str, env: dict[str, str] | None = None) -> Path:
    """Where the files of model set ``set_name`` are looked for: ``<cache>/models/<set>/``."""
    return cache_root(env) / "models" / set_name


def hf_hub_cache(env: dict[str, str] | None = None) -> Path:
    """The Hugging Face hub cache (``HF_HUB_CACHE``, ``HF_HOME/hub``, ``XDG_CACHE_HOME/huggingface/hub``)."""
    env = os.environ if env is None else env
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "huggingface" / "hub"


# -- parsing -------------------------------------------------------------------------

def _parse_file(raw: Any, role: str, where: str) -> FileSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, dict):
        raise ModelSetError(f"{where}: {role}: expected a file entry (mapping), got {type(raw).__name__}")
    unknown = set(raw) - FILE_KEYS
    if unknown:
        raise ModelSetError(f"{where}: {role}: unknown file key(s) {sorted(unknown)}; allowed: {sorted(FILE_KEYS)}")
    if bool(raw.get("name")) == bool(raw.get("path")):
        raise ModelSetError(f"{where}: {role}: give exactly one of 'name' (in the cache folder) or 'path'")
    digest = raw.get("sha256")
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", str(digest).lower()):
        raise ModelSetError(f"{where}: {role}: sha256 must be 64 hex digits or null, got {digest!r}")
    size = raw.get("size")
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ModelSetError(f"{where}: {role}: size must be a non-negative integer or null, got {size!r}")
    return FileSpec(role=role, name=raw.get("name"), path=raw.get("path"), url=raw.get("url"),
                    sha256=str(digest).lower() if digest else None, size=size, hf_hub=raw.get("hf_hub"))


def _parse_component(raw: Any, role: str, where: str) -> ComponentSpec:
    if not isinstance(raw, dict) or "file" not in raw:
        raise ModelSetError(f"{where}: {role}: expected a mapping with a 'file' entry")
    unknown = set(raw) - {"file", "config", "arch"}
    if unknown:
        raise ModelSetError(f"{where}: {role}: unknown key(s) {sorted(unknown)}; allowed: file, config, arch")
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise ModelSetError(f"{where}: {role}: 'config' must be a mapping")
    if role == "clip" and bool(raw.get("arch")) == bool(config):
        raise ModelSetError(f"{where}: clip: give exactly one of 'arch' (open_clip name) or 'config'")
    return ComponentSpec(file=_parse_file(raw["file"], role, where), config=dict(config), arch=raw.get("arch"))


def parse_spec(data: Any, source: Path) -> ModelSetSpec:
    """Validate a loaded YAML document; errors name the file and the entry."""
    where = str(source)
    if not isinstance(data, dict):
        raise ModelSetError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ModelSetError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(TOP_KEYS)}")
    if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise ModelSetError(f"{where}: schema {data.get('schema')!r} is not supported (expected {SCHEMA_VERSION})")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ModelSetError(f"{where}: 'name' must be a word (letters, digits, _ . -), got {name!r}")
    comps = {c: _parse_component(data[c], c, where) for c in COMPONENTS if data.get(c) is not None}
    mappers_raw = data.get("mappers") or {}
    stats_raw = data.get("global_stats") or {}
    defaults = data.get("defaults") or {}
    for key, value in (("mappers", mappers_raw), ("global_stats", stats_raw), ("defaults", defaults)):
        if not isinstance(value, dict):
            raise ModelSetError(f"{where}: '{key}' must be a mapping")
    align = data.get("align")
    if align is not None and align not in ALIGN_METHODS:
        raise ModelSetError(f"{where}: 'align' must be one of {list(ALIGN_METHODS)} or absent, got {align!r}")
    mappers = {str(p): _parse_file(f, f"mapper:{p}", where) for p, f in mappers_raw.items()}
    stats = {str(k): _parse_file(f, f"global_stats:{k}", where) for k, f in stats_raw.items()}
    try:
        engine_defaults = validate_engine_defaults(data.get("engine_defaults"), where)
    except ValueError as exc:
        raise ModelSetError(str(exc)) from exc
    return ModelSetSpec(name=name, description=str(data.get("description", "")), source=source,
                        mappers=mappers, global_stats=stats, defaults=dict(defaults),
                        engine_defaults=engine_defaults, align=align, **comps)


# libyaml's safe loader when PyYAML has it (the same data, 8x faster: `styleclip check` reads the sets' YAML)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_spec(path: str | Path) -> ModelSetSpec:
    """Parse one YAML file."""
    path = Path(path).expanduser().resolve()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except OSError as exc:
        raise ModelSetError(f"cannot read model set {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ModelSetError(f"{path}: invalid YAML: {exc}") from exc
    return parse_spec(data, path)


def search_dirs(env: dict[str, str] | None = None) -> list[Path]:
    """Folders searched for ``<name>.yaml``: the user's ``<cache>/modelsets`` first, then the built-in ones."""
    return [cache_root(env) / "modelsets", BUILTIN_DIR]


def available(env: dict[str, str] | None = None) -> list[Path]:
    """Every model-set YAML that ``find_spec`` can see, one per name (first wins)."""
    seen: dict[str, Path] = {}
    for folder in search_dirs(env):
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            seen.setdefault(path.stem, path)
    return list(seen.values())


def spec_path(name_or_path: str | Path, env: dict[str, str] | None = None) -> Path | None:
    """The YAML file ``find_spec`` reads for a set's name (see ``search_dirs``) or path; None when
    no such set is installed."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or os.sep in text:
        return Path(text)
    for folder in search_dirs(env):
        path = folder / f"{text}.yaml"
        if path.is_file():
            return path
    return None


def find_spec(name_or_path: str | Path, env: dict[str, str] | None = None) -> ModelSetSpec:
    """A set by name (see ``search_dirs``) or by the path of its YAML file."""
    path = spec_path(name_or_path, env)
    if path is not None:
        return read_spec(path)
    text = str(name_or_path)
    names = ", ".join(p.stem for p in available(env)) or "none"
    raise ModelSetError(f"unknown model set {text!r} (available: {names})")


# -- files -------------------------------------------------------------------------------

def candidates(spec: ModelSetSpec, f: FileSpec, env: dict[str, str] | None = None) -> list[Path]:
    """Where a file may be, in order of preference."""
    if f.path:
        p = Path(f.path).expanduser()
        return [p if p.is_absolute() else spec.source.parent / p]
    out = [models_dir(spec.name, env) / str(f.name)]
    if f.hf_hub:
        repo = hf_hub_cache(env) / ("models--" + f.hf_hub.strip("/").replace("/", "--")) / "snapshots"
        if repo.is_dir():
            out += sorted(repo.glob(f"*/{f.name}"))
    return out


def locate(spec: ModelSetSpec, f: FileSpec, env: dict[str, str] | None = None) -> Path | None:
    """The first existing candidate, or None."""
    return next((p for p in candidates(spec, f, env) if p.is_file()), None)


def resolve(spec: ModelSetSpec, f: FileSpec, env: dict[str, str] | None = None) -> Path:
    """The file's path; ``MissingModelFile`` (with where to put it and the URL) when absent."""
    found = locate(spec, f, env)
    if found is not None:
        return found
    target = candidates(spec, f, env)[0]
    lines = [f"model set '{spec.name}': the {f.role} file {f.filename} is missing.",
             f"  put it here: {target}"]
    if f.url:
        lines.append(f"  download it by hand from: {f.url}")
    if f.hf_hub:
        lines.append(f"  (or keep it in the Hugging Face cache: {f.hf_hub}, file {f.name})")
    if f.sha256:
        lines.append(f"  expected sha256: {f.sha256}")
    lines.append("  Files are never downloaded automatically; STYLECLIP_CACHE selects another cache folder.")
    raise MissingModelFile("\n".join(lines))


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class FileCheck:
    """Verification of one file: status is ok, mismatch, missing or unpinned."""

    role: str
    filename: str
    status: str
    path: Path | None
    size: int | None
    expected: str | None
    actual: str | None
    detail: str = ""


def verify_file(spec: ModelSetSpec, f: FileSpec, env: dict[str, str] | None = None) -> FileCheck:
    """Hash one file and compare it with the YAML's sha256 (and size when given)."""
    path = locate(spec, f, env)
    if path is None:
        return FileCheck(f.role, f.filename, "missing", None, None, f.sha256, None,
                         f"expected at {candidates(spec, f, env)[0]}")
    size = path.stat().st_size
    actual = sha256_file(path)
    if f.size is not None and size != f.size:
        return FileCheck(f.role, f.filename, "mismatch", path, size, f.sha256, actual,
                         f"size {size} != {f.size}")
    if f.sha256 is None:
        return FileCheck(f.role, f.filename, "unpinned", path, size, None, actual, "no sha256 in the YAML")
    status = "ok" if actual == f.sha256 else "mismatch"
    return FileCheck(f.role, f.filename, status, path, size, f.sha256, actual,
                     "" if status == "ok" else "sha256 differs")


def verify(spec: ModelSetSpec, env: dict[str, str] | None = None) -> list[FileCheck]:
    """``verify_file`` for every file of the set."""
    return [verify_file(spec, f, env) for f in spec.files()]
