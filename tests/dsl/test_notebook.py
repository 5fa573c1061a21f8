"""The notebook API: `import styleclip_dsl` stays torch-free, and examples/quickstart.ipynb runs in a real
Jupyter kernel (nbclient) with rich outputs: a PNG for a result, an HTML slider for a sweep, real files."""
from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "quickstart.ipynb"


def test_import_does_not_load_torch_or_the_runtime() -> None:
    code = ("import sys, styleclip_dsl as sc; sc.Session; "
            "print('torch' in sys.modules, 'styleclip_runtime' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _outputs(cell) -> dict[str, object]:
    found: dict[str, object] = {}
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            found["stream"] = str(found.get("stream", "")) + output["text"]
        for mime, value in output.get("data", {}).items():
            found[mime] = value
    return found


def test_quickstart_notebook_runs_in_a_jupyter_kernel(tmp_path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from PIL import Image

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    cells = {c["source"].splitlines()[0] if c["source"] else "": _outputs(c)
             for c in notebook.cells if c["cell_type"] == "code"}
    first = cells['r = s.run("generate seed=3; global \'smile\' alpha=3")']
    with Image.open(io.BytesIO(base64.b64decode(first["image/png"]))) as image:
        assert image.size == (64, 64)  # r.images[0]: the generator's own resolution
    with Image.open(io.BytesIO(base64.b64decode(cells["r"]["image/png"]))) as shown:
        assert shown.size == (256, 256)  # displayed scaled up
    assert "torch.Size([1, 3, 64, 64])" in str(cells["r.tensors.shape, r.labels[0][\"text\"]"]["text/plain"])
    slider = str(cells['sweep = s.run("global \'smile\' alpha=0..4 count 5")']["text/html"])
    # the first frame in the <img>, then the five frames the slider switches between
    assert 'type="range"' in slider and slider.count("data:image/png;base64,") == 1 + 5 and "alpha=4" in slider
    assert "image/png" in cells["sweep.grid()"]
    assert "['smile.mp4', 'smile_grid.png']" in str(cells['saved = s.run("save animation smile.mp4 duration=0.2; '
                                                         'save grid smile_grid.png")']["text/plain"])
    assert (tmp_path / "smile.mp4").read_bytes()[4:8] == b"ftyp"
    error, training = (str(_outputs(c)["stream"]) for c in notebook.cells if c["source"].startswith("try:"))
    assert "unknown parameter 'alpah'" in error and "did you mean 'alpha'?" in error
    assert "this would train a mapper for 'smiel'" in training and "train=True" in training
    assert "global 'smile' alpha=0..4 count 5" in str(cells["print(s.recipe)"]["stream"])


def test_train_is_the_consent_the_session_asks_on_the_plan_it_runs(tmp_path, monkeypatch) -> None:
    """`run(..., train=False)` refuses a long training with TrainingRequired and keeps nothing; the check
    explains the plan the entry runs, compiled once per run() call; `train=True` starts it."""
    from types import SimpleNamespace

    import styleclip_dsl as sc

    from .repl.fakes import FakeFactory

    s = sc.Session(out_dir=tmp_path, base_dir=tmp_path, echo=None)
    s._session.executor_factory = FakeFactory()
    s.run("generate seed=1")
    need = SimpleNamespace(kind="mapper", what="'smiel' (300 training steps)", status="train", seconds=None)
    explained: list[dict] = []
    s._session.executor.explain = lambda plan, base: explained.append(plan) or SimpleNamespace(needs=[need],
                                                                                                device="cpu")
    compiled: list[str] = []
    real = s._session.compile
    monkeypatch.setattr(s._session, "compile", lambda text: compiled.append(text) or real(text))
    with pytest.raises(sc.TrainingRequired, match="no time estimate on cpu.*train=True"):
        s.run("mapper 'smiel'")
    assert len(compiled) == 1 and len(explained) == 1 and s._session.entries == ["generate seed=1"]
    compiled.clear()
    result = s.run("mapper 'smiel'", train=True)  # consent given: not even explained
    assert len(compiled) == 1 and len(explained) == 1 and s._session.entries[-1] == "mapper 'smiel'"
    assert result.subject is not None
