"""Real handwriting lines mixed with synthetic ones: real pen strokes from many hands, and every character,
digit and punctuation mark of the mapping from the synthetic lines."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from text_recognizer.datasets.dataset import Dataset, random_validation_mask
from text_recognizer.datasets.real_handwriting import COLLECTIONS, RealHandwritingDataset, collection_dir, is_available
from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset, print_lines
from text_recognizer.line_codec import BLANK, LINE_HEIGHT, MAPPING, check_line_height

SYNTHETIC_ONLY_LINES = 20_000  # Synthetic training lines when no real collection is at the data root.

logger = logging.getLogger(__name__)


def pad_to(x: np.ndarray, shape: tuple[int, ...], value: int) -> np.ndarray:
    """`x` padded at the end of each axis after the first to `shape`, with `value`."""
    widths = [(0, 0)] + [(0, target - size) for size, target in zip(x.shape[1:], shape, strict=True)]
    return np.pad(x, widths, constant_values=value)


class MixedLinesDataset(Dataset):
    """The training lines of real collections at the data root plus `synthetic_ratio` times as many synthetic lines.

    Validation takes the real collections' validation groups (pages, letters or writers the training never sees)
    and a tenth of the synthetic lines; the test split joins their test splits. A collection that is not at the
    data root is left out with a warning (unless `download`): with none, training is on synthetic lines only.

    Args:
        collections: names of real collections (see `real_handwriting.COLLECTIONS`).
        synthetic_ratio: synthetic training lines per real training line.
        synthetic_train: synthetic training lines, instead of `synthetic_ratio` times the real ones (default: that,
            or 20,000 without real lines).
        synthetic_test: synthetic test lines.
        download: download collections that are not at the data root instead of leaving them out.
        seed: seed of the synthetic lines.
        line_height: line height in pixels (48 for the PP-OCR recognizers).
        oversample: collection name -> how many times each epoch sees its training lines (default 1), for a hand
            that needs more steps than its share of the lines gives it; validation lines are never repeated.
    """

    def __init__(
        self,
        collections: tuple[str, ...] | list[str] = ("hooker", "copiste", "poilus"),
        synthetic_ratio: float = 1.0,
        synthetic_train: int | None = None,
        synthetic_test: int = 500,
        download: bool = False,
        seed: int = 0,
        line_height: int = LINE_HEIGHT,
        oversample: dict[str, int] | None = None,
    ) -> None:
        check_line_height(line_height)
        self.oversample = dict(oversample or {})
        unknown = set(collections) - set(COLLECTIONS)
        if unknown:
            raise ValueError(f"Unknown collections {sorted(unknown)}; valid: {', '.join(COLLECTIONS)}")
        if set(self.oversample) - set(collections):
            raise ValueError(f"oversample names {sorted(set(self.oversample) - set(collections))}, not in collections")
        if any(not isinstance(times, int) or times < 1 for times in self.oversample.values()):
            raise ValueError(f"oversample takes whole numbers of at least 1 per collection, not {self.oversample}")
        if synthetic_ratio < 0 or synthetic_test <= 0 or (synthetic_train is not None and synthetic_train <= 0):
            raise ValueError("synthetic_ratio must be at least 0, synthetic_train and synthetic_test positive")
        self.collections, self.synthetic_ratio, self.synthetic_test = list(collections), synthetic_ratio, synthetic_test
        self.synthetic_train = synthetic_train
        self.download, self.seed, self.line_height = download, seed, line_height
        self.real: list[RealHandwritingDataset] = []
        self.mapping = MAPPING
        self.input_shape, self.output_shape = (line_height, 0), (0, len(MAPPING))
        self.attribution: list[str] = []

    def load_or_generate_data(self) -> None:
        """Load the available collections, render the synthetic lines to match, and join them."""
        present = [name for name in self.collections if self.download or is_available(name)]
        for name in sorted(set(self.collections) - set(present)):
            logger.warning(
                "Real handwriting %r is not at %s: training without it. Import a local copy with "
                "`python -m text_recognizer.datasets.real_handwriting %s --import FOLDER`, or download it.",
                name, collection_dir(name), name,
            )  # fmt: skip
        if not present:
            logger.warning("No real handwriting at the data root: training on synthetic lines only.")
        self.real = [COLLECTIONS[name](line_height=self.line_height) for name in present]
        for dataset in self.real:
            dataset.load_or_generate_data()
        real_train = sum(len(d.x_train) for d in self.real)
        num_synthetic = self.synthetic_train or (
            round(self.synthetic_ratio * real_train) if self.real else SYNTHETIC_ONLY_LINES
        )
        synthetic = SyntheticLinesDataset(
            num_train=max(1, num_synthetic), num_test=self.synthetic_test, seed=self.seed, line_height=self.line_height
        )
        synthetic.load_or_generate_data()
        parts = [*self.real, synthetic]
        self.input_shape = (self.line_height, max(p.input_shape[1] for p in parts))
        self.output_shape = (max(p.output_shape[0] for p in parts), len(MAPPING))
        self.data_version = (
            "+".join(p.data_version for p in parts)
            + f"-r{self.synthetic_ratio}"
            + "".join(f"-{name}x{self.oversample[name]}" for name in present if self.oversample.get(name, 1) > 1)
        )
        self.attribution = [d.attribution for d in self.real if d.attribution]
        masks = [d.validation_mask() for d in self.real] + [random_validation_mask(len(synthetic.x_train))]
        # The training rows of oversampled collections once more per extra time (validation rows only once).
        repeats = [
            (dataset, np.tile(np.flatnonzero(~mask), self.oversample.get(name, 1) - 1))
            for name, dataset, mask in zip(present, self.real, masks[: len(self.real)], strict=True)
        ]
        x_parts = [p.x_train for p in parts] + [dataset.x_train[rows] for dataset, rows in repeats]
        y_parts = [p.y_train for p in parts] + [dataset.y_train[rows] for dataset, rows in repeats]
        self.x_train = self._join(x_parts, self.input_shape, 0)
        self.y_train = self._join(y_parts, self.output_shape[:1], BLANK)
        self.x_test = self._join([p.x_test for p in parts], self.input_shape, 0)
        self.y_test = self._join([p.y_test for p in parts], self.output_shape[:1], BLANK)
        self._validation = np.concatenate(masks + [np.zeros(len(rows), bool) for _, rows in repeats])

    @staticmethod
    def _join(arrays: list[np.ndarray], shape: tuple[int, ...], value: int) -> np.ndarray:
        return np.concatenate([pad_to(a, shape, value) for a in arrays])

    def validation_mask(self) -> np.ndarray:
        """The real collections' validation lines and a tenth of the synthetic lines."""
        return self._validation

    def config(self) -> dict[str, Any]:
        """The base description plus the attributions of the real collections trained on."""
        return {**super().config(), **({"attribution": self.attribution} if self.attribution else {})}


def main() -> None:
    """Print shapes and a few labels of the mix."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic-ratio", type=float, default=1.0)
    print_lines(MixedLinesDataset(synthetic_ratio=parser.parse_args().synthetic_ratio))


if __name__ == "__main__":
    main()
