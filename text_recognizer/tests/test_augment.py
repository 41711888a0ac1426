import json

import numpy as np
import pytest

from text_recognizer.augment import CODES, Augmenter, check_table
from training.run_experiment import build_experiment, parse_experiment


def line() -> np.ndarray:
    x = np.zeros((32, 160), dtype=np.float32)
    x[8:24, 10:120:6] = 255.0  # Vertical strokes.
    x[15:17, 10:120] = 200.0
    return x


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"blur": 1}, "Unknown augmentation 'blur'; codes: none, mb"),
        ({"rot": -1}, "weight of 'rot' must be a non-negative number"),
        ({"rot": 0}, "needs a positive weight"),
        ([1], "must map codes to weights"),
    ],
)
def test_bad_tables_are_explained(table, message):
    with pytest.raises(ValueError, match=message):
        check_table(table)


def test_every_code_changes_a_line_alike_from_the_same_seed():
    augmenter = Augmenter({code: 1 for code in CODES})
    for code in CODES:
        first = augmenter.apply(code, line(), np.random.default_rng(5))
        again = augmenter.apply(code, line(), np.random.default_rng(5))
        assert first.shape == line().shape and first.dtype == np.float32 and np.array_equal(first, again)
        assert np.array_equal(first, line()) == (code == "none"), code


def test_codes_are_drawn_by_weight():
    augmenter = Augmenter({"none": 3, "sp": 1})
    changed = [not np.array_equal(a, line()) for a in augmenter(np.stack([line()] * 400), np.random.default_rng(0))]
    assert 0.18 < np.mean(changed) < 0.32  # A quarter of the lines get salt and pepper.


def test_the_table_reaches_line_models_only(data_root):
    lines = {
        "dataset": "SyntheticLinesDataset",
        "dataset_args": {"num_train": 8, "num_test": 2, "max_length": 8, "augment": {"none": 1, "rot": 1}},
        "model": "LineModelCtc",
        "network": "line_cnn_lstm",
    }
    _, model = build_experiment(parse_experiment(json.dumps(lines)))
    assert model.augmenter.table == {"none": 1.0, "rot": 1.0}
    characters = {"dataset": "EmnistDataset", "model": "CharacterModel", "network": "mlp"}
    characters["dataset_args"] = {"source": "synthetic", "samples_per_class": 1, "augment": {"rot": 1}}
    with pytest.raises(ValueError, match="dataset_args.augment applies to line models, not CharacterModel"):
        build_experiment(parse_experiment(json.dumps(characters)))
