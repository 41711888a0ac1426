"""Draw a grid of example augmentations: synthetic lines (rows) through every code of the table (columns)."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from text_recognizer.augment import CODES, Augmenter
from text_recognizer.datasets.dataset import atomic_path

LINES = 4


def draw_grid(lines: np.ndarray, path: Path, seed: int = 0) -> None:
    """Write `path` (PNG): each line through each augmentation code, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    augmenter = Augmenter({code: 1 for code in CODES})
    rng = np.random.default_rng(seed)
    figure, axes = plt.subplots(len(CODES), len(lines), figsize=(4 * len(lines), 0.8 * len(CODES)), squeeze=False)
    for row, code in enumerate(CODES):
        for column, line in enumerate(lines):
            ax = axes[row, column]
            ax.imshow(augmenter.apply(code, line.astype(np.float32), rng), cmap="gray_r", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if column == 0:
                ax.set_ylabel(code, rotation=0, labelpad=20)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=80)
    plt.close(figure)


def main() -> None:
    """Render a few synthetic lines and draw them through every augmentation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path, nargs="?", default=Path("augmentations.png"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TEXT_RECOGNIZER_DATA"] = tmp
        dataset = SyntheticLinesDataset(num_train=LINES, num_test=1, max_length=24, seed=args.seed)
        dataset.load_or_generate_data()
    draw_grid(dataset.x_train[:, :, :320], args.output, args.seed)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
