"""Synthetic handwriting lines: generated English-like text rendered with handwriting fonts (offline default)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from text_recognizer.datasets.dataset import Dataset, data_dirname
from text_recognizer.datasets.handwriting import find_fonts, fonts_fingerprint, render_parallel
from text_recognizer.datasets.sentence_generator import CORPORA, SentenceGenerator, check_corpus
from text_recognizer.datasets.synthetic_characters import split_fonts
from text_recognizer.datasets.synthetic_lines import render_line
from text_recognizer.line_codec import LINE_HEIGHT, MAPPING, check_line_height, decode, encode
from text_recognizer.line_codec import SYNTHETIC_LINE_WIDTH as LINE_WIDTH

SYNTHETIC_LINES_VERSION = "synth-lines-v7"
BOXED_EVERY = 7  # Every seventh line is drawn EMNIST Lines style: letters, digits and spaces in boxes.


def corpus_suffix(corpus: str) -> str:
    """Data-version suffix naming a text source other than the default."""
    return "" if corpus == CORPORA[0] else f"-{corpus}"


def print_lines(dataset: Dataset, count: int = 5) -> None:
    """Load a line dataset and print its shapes and first few texts (the dataset scripts' output)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dataset.load_or_generate_data()
    print(dataset)
    for y in dataset.y_train[:count]:
        print(repr(decode(y)))


def _render_task(task: tuple[str, tuple[Path, ...], tuple[int, ...], bool, int]) -> np.ndarray:
    text, fonts, seed, boxed, height = task
    return render_line(text, fonts, np.random.default_rng(seed), height, LINE_WIDTH * height // LINE_HEIGHT, boxed)


class SyntheticLinesDataset(Dataset):
    """Lines of handwriting-font text, 32 px high (or `line_height`) and up to 20 heights wide, white on black; test
    fonts held out.

    Args:
        num_train: training lines.
        num_test: test lines.
        max_length: longest text in characters.
        seed: seed of text and rendering.
        corpus: text source, "wordfreq" or "brown" (see SentenceGenerator).
        line_height: line height in pixels (48 for the PP-OCR recognizers).
    """

    def __init__(
        self,
        num_train: int = 20_000,
        num_test: int = 1_000,
        max_length: int = 40,
        seed: int = 0,
        corpus: str = "wordfreq",
        line_height: int = LINE_HEIGHT,
    ) -> None:
        if min(num_train, num_test, max_length) <= 0:
            raise ValueError("num_train, num_test and max_length must be positive")
        check_line_height(line_height)
        check_corpus(corpus)
        self.num_train, self.num_test, self.max_length, self.seed = num_train, num_test, max_length, seed
        self.corpus = corpus
        self.mapping = MAPPING
        self.input_shape = (line_height, LINE_WIDTH * line_height // LINE_HEIGHT)
        self.output_shape = (max_length, len(MAPPING))

    def load_or_generate_data(self) -> None:
        """Load the cached lines, rendering them first when missing."""
        fonts = find_fonts()
        self.data_version = (
            f"{SYNTHETIC_LINES_VERSION}-{fonts_fingerprint(fonts)}-"
            f"{self.num_train}-{self.num_test}-{self.max_length}-s{self.seed}{corpus_suffix(self.corpus)}"
            f"-{self.input_shape[0]}x{self.input_shape[1]}"
        )
        cache = data_dirname() / "processed" / "synthetic_lines" / f"{self.data_version}.h5"
        self.load_cache(cache, lambda: self._generate(fonts))

    def _generate(self, fonts: tuple[Path, ...]) -> dict[str, np.ndarray]:
        arrays = {}
        font_sets = split_fonts(fonts)
        for split_id, (split, count) in enumerate((("train", self.num_train), ("test", self.num_test))):
            generator = SentenceGenerator(self.max_length, seed=self.seed * 10 + split_id, corpus=self.corpus)
            boxed = [i % BOXED_EVERY == BOXED_EVERY - 1 for i in range(count)]
            texts = [generator.generate_alphanumeric() if b else generator.generate() for b in boxed]
            tasks = [
                (t, font_sets[split], (self.seed, split_id, i), b, self.input_shape[0])
                for i, (t, b) in enumerate(zip(texts, boxed, strict=True))
            ]
            arrays[f"x_{split}"] = render_parallel(_render_task, tasks)
            arrays[f"y_{split}"] = np.stack([encode(t, self.max_length) for t in texts])
        return arrays


def main() -> None:
    """Print shapes and a few labels."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num_train", type=int, default=20_000)
    parser.add_argument("--corpus", choices=CORPORA, default=CORPORA[0])
    args = parser.parse_args()
    print_lines(SyntheticLinesDataset(num_train=args.num_train, corpus=args.corpus))


if __name__ == "__main__":
    main()
