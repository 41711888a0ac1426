"""Your own line images: a folder of `<text>.png` (or .jpg) files, each named by the text it shows, to train on."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from text_recognizer.datasets.dataset import Dataset, data_dirname
from text_recognizer.datasets.synthetic_lines_dataset import print_lines
from text_recognizer.line_codec import LINE_HEIGHT, LINE_WIDTH, MAPPING, check_line_height, encode
from text_recognizer.preprocessing import line_input

LINE_FOLDER_VERSION = "line-folder-v1"
LINE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_LENGTH = 80
MIN_LINES = 20  # Fewer lines cannot fill a training, a validation and a test split.
SHOWN_PROBLEMS = 5  # Files named in an error about bad labels.


def names_a_file(text: str) -> bool:
    """Whether `text` can name its line's image file (`<text>.png`)."""
    return bool(text) and "/" not in text and not text.startswith(".")


def folder_lines(directory: Path) -> tuple[list[Path], list[str]]:
    """Every line image in `directory` (sorted by name), with the text its name gives."""
    if not directory.is_dir():
        raise ValueError(f"No folder at {directory}")
    paths = sorted(path for path in directory.iterdir() if path.suffix.lower() in LINE_SUFFIXES)
    if not paths:
        raise ValueError(f"No {'/'.join(LINE_SUFFIXES)} images in {directory}")
    return paths, [path.stem for path in paths]


def folder_digest(paths: list[Path]) -> str:
    """Hash of the files' names and bytes, so the processed cache follows every change to the folder."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class LineFolderDataset(Dataset):
    """Line images named by their text, preprocessed as `LinePredictor` does and fitted to 32×1280 (or `line_height`
    and 40 times as wide); a random split.

    `evaluation.page_lines` cuts a photographed page and its transcript into such a folder. Fine-tune the shipped
    model on it with `training/run_experiment.py --init-from` (see the README).

    Args:
        directory: folder of `<text>.png` / `.jpg` line images; texts use the model's characters, up to 80.
        test_fraction: share of the lines held out as the test split.
        seed: draws the split.
        line_height: line height in pixels (48 for the PP-OCR recognizers, as the shipped models).
    """

    def __init__(
        self, directory: str, test_fraction: float = 0.2, seed: int = 0, line_height: int = LINE_HEIGHT
    ) -> None:
        check_line_height(line_height)
        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        self.directory, self.test_fraction, self.seed = Path(directory).expanduser(), test_fraction, seed
        self.mapping = MAPPING
        self.input_shape = (line_height, LINE_WIDTH * line_height // LINE_HEIGHT)
        self.output_shape = (MAX_LENGTH, len(MAPPING))

    def load_or_generate_data(self) -> None:
        """Load the processed lines, preprocessing the folder first when it changed since."""
        paths, texts = folder_lines(self.directory)
        if len(paths) < MIN_LINES:
            raise ValueError(f"{self.directory} has {len(paths)} line images; training needs at least {MIN_LINES}")
        labels = encode_texts(paths, texts)
        digest, height = folder_digest(paths)[:12], self.input_shape[0]
        self.data_version = f"{LINE_FOLDER_VERSION}-{digest}-t{self.test_fraction}-s{self.seed}-h{height}"
        cache = data_dirname() / "processed" / "line_folder" / f"{self.data_version}.h5"
        self.load_cache(cache, lambda: self._split(paths, labels))

    def _split(self, paths: list[Path], labels: np.ndarray) -> dict[str, np.ndarray]:
        images = np.stack([line_input(path, *self.input_shape) for path in paths])
        order = np.random.default_rng(self.seed).permutation(len(paths))
        test, train = np.split(order, [max(1, round(len(paths) * self.test_fraction))])
        return {"x_train": images[train], "y_train": labels[train], "x_test": images[test], "y_test": labels[test]}


def encode_texts(paths: list[Path], texts: list[str]) -> np.ndarray:
    """Labels of the lines; one error names the files whose texts are too long or use unknown characters."""
    labels, problems = [], []
    for path, text in zip(paths, texts, strict=True):
        try:
            labels.append(encode(text, MAX_LENGTH))
        except ValueError as e:
            problems.append(f"{path.name}: {e}")
    if problems:
        more = f"; {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        raise ValueError(f"Rename or remove {len(problems)} line images: {'; '.join(problems[:SHOWN_PROBLEMS])}{more}")
    return np.stack(labels)


def main() -> None:
    """Print shapes and a few labels of a folder's lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", help="folder of <text>.png line images")
    print_lines(LineFolderDataset(parser.parse_args().directory))


if __name__ == "__main__":
    main()
