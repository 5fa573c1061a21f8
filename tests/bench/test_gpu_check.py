"""bench/gpu_check.py: the GPU check degrades cleanly without CUDA, and its CPU smoke run goes through
every section with the same code the CUDA run uses (at toy sizes)."""
from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "bench" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gpu_check = _load()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_without_cuda_it_says_so_and_exits_2() -> None:
    out = io.StringIO()
    assert gpu_check.main([], out=out) == gpu_check.EXIT_NO_CUDA
    assert "no CUDA device" in out.getvalue() and "--device cpu --quick" in out.getvalue()
    shell = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh")], capture_output=True, text=True,
                           timeout=120)
    assert shell.returncode == 2 and "no CUDA device" in shell.stderr


def test_the_cpu_smoke_run_checks_and_measures_every_section() -> None:
    out = io.StringIO()
    assert gpu_check.main(["--device", "cpu", "--quick"], out=out) == gpu_check.EXIT_OK, out.getvalue()
    table = out.getvalue()
    for section in ("ops", "generator", "synthesis", "global edit", "e4e", "optimization", "mapper", "memory"):
        assert f"| {section}" in table, section
    assert "FAIL" not in table


def test_a_relative_error_past_the_bound_is_a_mismatch() -> None:
    rows, built = gpu_check.check_ops(torch.device("cpu"), rtol=0.0)  # the up=2 path differs by rounding
    assert any(r.status == "FAIL" for r in rows) and built
    assert gpu_check.exit_status(rows, built) == gpu_check.EXIT_MISMATCH
    rows, built = gpu_check.check_ops(torch.device("cpu"), rtol=1e-3)
    assert gpu_check.exit_status(rows, built) == gpu_check.EXIT_OK
    assert gpu_check.exit_status(rows, False) == gpu_check.EXIT_NO_OPS
    assert gpu_check.psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)) == float("inf")
