"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.runs import RUNS_ENV


@pytest.fixture(autouse=True)
def runs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Write every run of a test into its own temporary folder."""
    monkeypatch.setenv(RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"
