"""Fixtures of the package's tests."""

from __future__ import annotations

import pytest

from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset


@pytest.fixture(scope="session")
def lines(tmp_path_factory: pytest.TempPathFactory) -> SyntheticLinesDataset:
    """Sixteen short synthetic training lines (at most 12 characters) and four test lines."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path_factory.mktemp("data")))
        dataset = SyntheticLinesDataset(num_train=16, num_test=4, max_length=12, seed=3)
        dataset.load_or_generate_data()
    return dataset
