"""Small random models for runtime tests: the real classes at tiny sizes."""
from __future__ import annotations

from pathlib import Path

import pytest

from .tiny_modelset import write_tiny_modelset


@pytest.fixture(scope="module")
def modelset_yaml(tmp_path_factory) -> Path:
    """The tiny model set (tiny_modelset.py) written once per test module."""
    return write_tiny_modelset(tmp_path_factory.mktemp("models"))


@pytest.fixture()
def env(tmp_path, monkeypatch, modelset_yaml) -> Path:
    """The tiny set's YAML, with a cache folder of the test's own."""
    monkeypatch.setenv("STYLECLIP_CACHE", str(tmp_path / "cache"))
    return modelset_yaml
