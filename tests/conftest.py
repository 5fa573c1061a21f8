"""Test-wide settings: every test runs against a private cache folder, so no
test reads or writes the user's ~/.cache/styleclip, and nothing is fetched."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    old = {k: os.environ.get(k) for k in ("STYLECLIP_CACHE", "HF_HUB_OFFLINE", "STYLECLIP_SYNTHESIS_PATH")}
    os.environ["STYLECLIP_CACHE"] = str(tmp_path_factory.mktemp("styleclip-cache"))
    os.environ["HF_HUB_OFFLINE"] = "1"
    # results render on the reference fast path (byte-stable across machines) unless a test is about
    # the path choice (runtime/execution/render_path.py; tests/runtime/test_render_path.py)
    os.environ["STYLECLIP_SYNTHESIS_PATH"] = "fast"
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def pytest_addoption(parser):
    parser.addoption(
        "--long", action="store_true", default=False,
        help="long fuzz runs (tests/dsl/test_fuzz.py: 100,000 examples instead of CI's 2,000)",
    )
