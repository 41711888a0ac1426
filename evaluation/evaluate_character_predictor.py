"""Validation test for the shipped CharacterPredictor: accuracy on a held-out synthetic split, or on `--dir`."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from text_recognizer.character_predictor import CharacterPredictor
from text_recognizer.datasets.emnist_dataset import EmnistDataset

ACCURACY_FLOOR = 0.7
EVAL_SAMPLES_PER_CLASS = 120  # Gives 20 test images per class, rendered from the held-out fonts.
EVAL_SEED = 7  # Differs from the training seed, so every image is new.


def synthetic_accuracy(predictor: CharacterPredictor) -> float:
    """Accuracy over a freshly rendered test split (fonts never seen in training)."""
    dataset = EmnistDataset(source="synthetic", samples_per_class=EVAL_SAMPLES_PER_CLASS, seed=EVAL_SEED)
    dataset.load_or_generate_data()
    hits = [predictor.predict(x)[0] == dataset.mapping[y] for x, y in zip(dataset.x_test, dataset.y_test, strict=True)]
    return sum(hits) / len(hits)


def directory_results(predictor: CharacterPredictor, directory: Path) -> list[tuple[str, str, float]]:
    """(expected, predicted, confidence) for every `<char>.png` in `directory`."""
    return [(path.stem, *predictor.predict(path)) for path in sorted(directory.glob("*.png"))]


def test_character_predictor_accuracy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped model stays above the accuracy floor on held-out synthetic characters."""
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", os.environ.get("TEXT_RECOGNIZER_DATA", str(tmp_path)))
    accuracy = synthetic_accuracy(CharacterPredictor())
    print(f"synthetic test accuracy {accuracy:.4f}")
    assert accuracy > ACCURACY_FLOOR


def main() -> None:
    """Print accuracy on the synthetic test split, or per-image results for each `--dir`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, action="append", help="folder of <char>.png images (repeatable)")
    args = parser.parse_args()
    predictor = CharacterPredictor()
    if not args.dir:
        print(f"synthetic test accuracy: {synthetic_accuracy(predictor):.4f}")
        return
    results = [row for directory in args.dir for row in directory_results(predictor, directory)]
    for expected, predicted, confidence in results:
        print(f"{expected!r:>5} -> {predicted!r:5} {confidence:.3f} {'ok' if expected == predicted else 'WRONG'}")
    correct = sum(expected == predicted for expected, predicted, _ in results)
    print(f"read exactly: {correct}/{len(results)}")


if __name__ == "__main__":
    main()
