"""IAM Lines: handwritten lines cropped from the IAM forms, fitted to 32×1280, with a writer-independent split."""

from __future__ import annotations

import argparse
import logging

import numpy as np
from PIL import Image

from text_recognizer.datasets.dataset import Dataset, data_dirname
from text_recognizer.datasets.iam_dataset import IamDataset, IamForm
from text_recognizer.datasets.synthetic_lines_dataset import print_lines
from text_recognizer.line_codec import LINE_HEIGHT, LINE_WIDTH, MAPPING, encode
from text_recognizer.preprocessing import fit_line

IAM_LINES_VERSION = "iam-lines-v1"
MAX_LENGTH = 80  # Longer lines (rare in IAM) are skipped.

logger = logging.getLogger(__name__)


def form_lines(form: IamForm) -> list[tuple[np.ndarray, str]]:
    """The form's lines as network inputs (white on black, LINE_HEIGHT × LINE_WIDTH) with their texts."""
    with Image.open(form.image) as image:
        page = np.asarray(image.convert("L"))
    pairs = []
    for line in form.lines:
        x0, y0, x1, y1 = line.box
        pairs.append((fit_line(page[y0:y1, x0:x1], LINE_HEIGHT, LINE_WIDTH), line.text))
    return pairs


class IamLinesDataset(Dataset):
    """Lines of the IAM forms; lines whose text is longer than 80 characters or outside the mapping are skipped."""

    def __init__(self) -> None:
        self.iam = IamDataset()
        self.mapping = MAPPING
        self.input_shape = (LINE_HEIGHT, LINE_WIDTH)
        self.output_shape = (MAX_LENGTH, len(MAPPING))

    def load_or_generate_data(self) -> None:
        """Load the cached lines, cropping them from the forms (downloading IAM) first when missing."""
        self.data_version = f"{IAM_LINES_VERSION}-{self.iam.metadata['sha256'][:8]}-{LINE_HEIGHT}x{LINE_WIDTH}"
        cache = data_dirname() / "processed" / "iam_lines" / f"{self.data_version}.h5"
        self.load_cache(cache, self._crop_lines)

    def _crop_lines(self) -> dict[str, np.ndarray]:
        self.iam.load_or_generate_data()
        images: dict[str, list[np.ndarray]] = {"train": [], "test": []}
        labels: dict[str, list[np.ndarray]] = {"train": [], "test": []}
        skipped = 0
        for form in self.iam.forms:
            for image, text in form_lines(form):
                try:
                    labels[form.split].append(encode(text, MAX_LENGTH))
                except ValueError:
                    skipped += 1
                    continue
                images[form.split].append(image)
        logger.info("IAM lines: %d skipped (too long or characters outside the mapping)", skipped)
        empty = np.zeros((0, LINE_HEIGHT, LINE_WIDTH), dtype=np.uint8)
        arrays = {}
        for split in ("train", "test"):
            arrays[f"x_{split}"] = np.stack(images[split]) if images[split] else empty
            arrays[f"y_{split}"] = np.stack(labels[split]) if labels[split] else np.zeros((0, MAX_LENGTH), np.int64)
        return arrays


def main() -> None:
    """Print shapes and a few labels."""
    argparse.ArgumentParser(description=__doc__).parse_args()
    print_lines(IamLinesDataset())


if __name__ == "__main__":
    main()
