"""Run every notebook top to bottom, as CI does, on the project's own small data (a temporary data root and runs
folder), and print how long each took."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted(Path(__file__).parent.glob("[0-9][0-9]-look-at-*.ipynb"))
CELL_TIMEOUT_S = 300


def test_there_is_a_notebook_per_subject() -> None:
    assert [path.name[:2] for path in NOTEBOOKS] == [f"{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = nbformat.read(path, as_version=4)
    assert all(
        not cell.get("outputs") and not cell.get("execution_count")
        for cell in notebook.cells
        if cell.cell_type == "code"
    ), f"{path.name} is saved with outputs: clear them before committing"
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TEXT_RECOGNIZER_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    start = time.perf_counter()
    NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
