"""EMNIST Lines: sentences built from EMNIST characters placed side by side with random overlap (FSDL mechanics)."""

from __future__ import annotations

import argparse

import numpy as np

from text_recognizer.datasets.dataset import Dataset, data_dirname
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.datasets.sentence_generator import CORPORA, SentenceGenerator, check_corpus
from text_recognizer.datasets.synthetic_lines import CHAR_SIZE, build_line
from text_recognizer.datasets.synthetic_lines_dataset import corpus_suffix, print_lines
from text_recognizer.line_codec import MAPPING, encode

EMNIST_LINES_VERSION = "emnist-lines-v2"


class EmnistLinesDataset(Dataset):
    """Lines of up to `max_length` EMNIST characters (28 × 28·max_length), from real EMNIST when present.

    Args:
        max_length: longest text in characters.
        min_overlap: least fraction of a glyph width neighbours share.
        max_overlap: most fraction of a glyph width neighbours share.
        num_train: training lines.
        num_test: test lines (built from EMNIST's test characters).
        seed: seed of texts, glyph choice and overlaps.
        emnist_source: "auto", "real" or "synthetic" characters (see EmnistDataset).
        corpus: text source, "wordfreq" or "brown" (see SentenceGenerator).
    """

    def __init__(
        self,
        max_length: int = 34,
        min_overlap: float = 0.0,
        max_overlap: float = 0.33,
        num_train: int = 10_000,
        num_test: int = 1_000,
        seed: int = 0,
        emnist_source: str = "auto",
        corpus: str = "wordfreq",
    ) -> None:
        if not 0 <= min_overlap <= max_overlap < 1:
            raise ValueError(f"Need 0 <= min_overlap <= max_overlap < 1, got {min_overlap}, {max_overlap}")
        if min(num_train, num_test, max_length) <= 0:
            raise ValueError("num_train, num_test and max_length must be positive")
        check_corpus(corpus)
        self.corpus = corpus
        self.max_length, self.min_overlap, self.max_overlap = max_length, min_overlap, max_overlap
        self.num_train, self.num_test, self.seed = num_train, num_test, seed
        self.emnist = EmnistDataset(source=emnist_source)
        self.mapping = MAPPING
        self.input_shape = (CHAR_SIZE, CHAR_SIZE * max_length)
        self.output_shape = (max_length, len(MAPPING))

    def load_or_generate_data(self) -> None:
        """Load the cached lines, building them from EMNIST first when missing."""
        self.emnist.load_or_generate_data()
        self.data_version = (
            f"{EMNIST_LINES_VERSION}-{self.emnist.data_version}-{self.max_length}-{self.min_overlap}-"
            f"{self.max_overlap}-{self.num_train}-{self.num_test}-s{self.seed}{corpus_suffix(self.corpus)}"
        )
        cache = data_dirname() / "processed" / "emnist_lines" / f"{self.data_version}.h5"
        self.load_cache(cache, self._generate)

    def _generate(self) -> dict[str, np.ndarray]:
        emnist = self.emnist
        train = self._split(0, self.num_train, emnist.x_train, emnist.y_train)
        test = self._split(1, self.num_test, emnist.x_test, emnist.y_test)
        return {"x_train": train[0], "y_train": train[1], "x_test": test[0], "y_test": test[1]}

    def _split(self, split_id: int, count: int, chars: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng((self.seed, split_id))
        generator = SentenceGenerator(self.max_length, seed=self.seed * 10 + split_id, corpus=self.corpus)
        by_char = {MAPPING[c]: np.flatnonzero(labels == c) for c in np.unique(labels)}
        space = np.zeros((CHAR_SIZE, CHAR_SIZE), dtype=np.uint8)
        texts = [generator.generate_alphanumeric() for _ in range(count)]
        images = []
        for text in texts:
            glyphs = [space if c == " " else chars[rng.choice(by_char[c])] for c in text]
            overlap = rng.uniform(self.min_overlap, self.max_overlap)
            images.append(build_line(glyphs, overlap, self.input_shape[1]))
        return np.stack(images), np.stack([encode(text, self.max_length) for text in texts])


def main() -> None:
    """Print shapes and a few labels."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emnist_source", default="auto", choices=("auto", "real", "synthetic"))
    parser.add_argument("--corpus", choices=CORPORA, default=CORPORA[0])
    args = parser.parse_args()
    print_lines(EmnistLinesDataset(emnist_source=args.emnist_source, corpus=args.corpus))


if __name__ == "__main__":
    main()
