"""English text spans: words drawn by their real English frequency (offline), or the Brown corpus's running text."""

from __future__ import annotations

import functools
import io
import itertools
import string
from collections.abc import Callable
from pathlib import Path

import numpy as np

from text_recognizer.datasets.dataset import data_dirname
from text_recognizer.english import JOINERS, vocabulary
from text_recognizer.line_codec import MAPPING, PADDING

CORPORA = ("wordfreq", "brown")
NLTK_INDEX_URL = "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/index.xml"  # NLTK's data index.
PUNCT_AFTER = [",", ".", ";", ":", "?", "!", "'s", ")", '"']
PUNCT_BEFORE = ["(", '"', "'", "#"]
ALPHANUMERIC_CHARS = set(string.ascii_letters + string.digits + " ")  # What EMNIST has: no punctuation.


class SentenceGenerator:
    """Generates English text spans of at most `max_length` characters, cut at word boundaries.

    Args:
        max_length: longest span in characters (None: no limit).
        seed: seed of the random source.
        corpus: "wordfreq" (offline: words drawn by frequency, with numbers, codes and punctuation) or "brown"
            (spans of the Brown corpus's running text, downloaded with NLTK on first use).
    """

    def __init__(self, max_length: int | None = 34, seed: int = 0, corpus: str = "wordfreq") -> None:
        check_corpus(corpus)
        self.max_length = max_length
        self.rng = np.random.default_rng(seed)
        self.words, self.word_p = vocabulary()
        self.running_text = (
            brown_words(data_dirname() / "raw" / "nltk_data", NLTK_INDEX_URL) if corpus == "brown" else None
        )

    def word(self) -> str:
        """One token: a word (sometimes capitalized), a number or a code, with occasional punctuation.

        Codes (2 to 4 capitals drawn uniformly) give every capital, even the rare X, Q and Z, enough examples.
        """
        r = self.rng.random()
        if r < 0.05:
            token = self.number()
        elif r < 0.07:
            token = "".join(self.rng.choice(list(string.ascii_uppercase), size=self.rng.integers(2, 5)))
        else:
            token = self.common_word()
            if self.rng.random() < 0.12:
                token = token.capitalize() if self.rng.random() < 0.85 else token.upper()
        if self.rng.random() < 0.03:
            token += str(self.rng.choice(list(JOINERS))) + self.common_word()
        if self.rng.random() < 0.04:
            token = str(self.rng.choice(PUNCT_BEFORE)) + token
        if self.rng.random() < 0.14:
            token += str(self.rng.choice(PUNCT_AFTER, p=[0.4, 0.3, 0.05, 0.05, 0.06, 0.04, 0.04, 0.03, 0.03]))
        return token

    def generate_alphanumeric(self) -> str:
        """A span reduced to letters, digits and single spaces (punctuation joining words becomes a space)."""
        while True:
            kept = (c if c in ALPHANUMERIC_CHARS else " " if c in JOINERS else "" for c in self.generate())
            text = " ".join("".join(kept).split())
            if text:
                return text

    def common_word(self) -> str:
        """A lowercase English word, drawn with its frequency in English text."""
        return str(self.words[self.rng.choice(len(self.words), p=self.word_p)])

    def number(self) -> str:
        """A year, count, price-like or time-like number."""
        kind = self.rng.integers(4)
        if kind == 0:
            return str(self.rng.integers(1900, 2030))
        if kind == 1:
            return str(self.rng.integers(0, 100))
        if kind == 2:
            return f"{self.rng.integers(1, 999)}.{self.rng.integers(0, 100):02d}"
        return f"{self.rng.integers(1, 13)}:{self.rng.integers(0, 60):02d}"

    def generate(self, max_length: int | None = None) -> str:
        """A span of words whose length is uniform-ish in [1, max_length], never cutting a word."""
        limit = max_length or self.max_length or 80
        target = int(self.rng.integers(1, limit + 1))
        next_word = self._running_words() if self.running_text else self.word
        chosen: list[str] = []
        while True:
            word = next_word()
            candidate = " ".join([*chosen, word])
            if len(candidate) > limit:
                break
            chosen.append(word)
            if len(candidate) >= target:
                break
        text = " ".join(chosen) or word[:limit]
        if chosen and not self.running_text and self.rng.random() < 0.3:
            text = text[0].upper() + text[1:]
        return text

    def _running_words(self) -> Callable[[], str]:
        """Successive words of the running text from a random start (wrapping around)."""
        text = self.running_text or ()
        position = itertools.count(int(self.rng.integers(len(text))))
        return lambda: text[next(position) % len(text)]


def check_corpus(corpus: str) -> None:
    """Raise ValueError naming the choices unless `corpus` is one of CORPORA."""
    if corpus not in CORPORA:
        raise ValueError(f"Unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}")


@functools.cache
def brown_words(root: Path, index_url: str) -> tuple[str, ...]:
    """The Brown corpus as running words with their punctuation, characters outside the mapping removed.

    Downloads the corpus into `root` with NLTK's downloader (which checks the index's checksum) when missing.
    """
    import nltk
    from nltk.corpus.reader import CategorizedTaggedCorpusReader
    from nltk.downloader import Downloader
    from nltk.tokenize.treebank import TreebankWordDetokenizer

    corpus = root / "corpora" / "brown"
    if str(root) not in nltk.data.path:
        nltk.data.path.append(str(root))  # NLTK reads corpora only from its data path.
    if not corpus.is_dir():
        try:
            Downloader(server_index_url=index_url).download(
                "brown", download_dir=str(root), quiet=True, raise_on_error=True, print_error_to=io.StringIO()
            )
        except (OSError, ValueError) as e:
            raise RuntimeError(f"Cannot download the Brown corpus from {index_url} into {root}: {e}") from e
    reader = CategorizedTaggedCorpusReader(str(corpus), r"c[a-z]\d\d", cat_file="cats.txt", encoding="ascii")
    detokenizer = TreebankWordDetokenizer()
    allowed = set(MAPPING) - {PADDING}
    text = " ".join(detokenizer.detokenize(sentence) for sentence in reader.sents())
    words = tuple(w for w in ("".join(c for c in word if c in allowed) for word in text.split()) if w)
    if not words:
        raise RuntimeError(f"The Brown corpus in {corpus} has no text")
    return words
