"""Offline English-like text: words drawn by their real English frequency, with numbers and punctuation."""

from __future__ import annotations

import functools
import re
import string

import numpy as np
import wordfreq

VOCABULARY_SIZE = 30_000  # Most frequent English words (about 94 % of running text).
WORD_PATTERN = re.compile(r"[a-z]+(?:'[a-z]+)?")  # Plain words and contractions; no digits or symbols.
PUNCT_AFTER = [",", ".", ";", ":", "?", "!", "'s", ")", '"']
PUNCT_BEFORE = ["(", '"', "'", "#"]
JOINERS = ["-", "/", "&", "+", "*"]
ALPHANUMERIC_CHARS = set(string.ascii_letters + string.digits + " ")  # What EMNIST has: no punctuation.


class SentenceGenerator:
    """Generates English-like text spans of at most `max_length` characters, cut at word boundaries.

    Args:
        max_length: longest span in characters (None: no limit).
        seed: seed of the random source.
    """

    def __init__(self, max_length: int | None = 34, seed: int = 0) -> None:
        self.max_length = max_length
        self.rng = np.random.default_rng(seed)
        self.words, self.word_p = vocabulary()

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
            token += str(self.rng.choice(JOINERS)) + self.common_word()
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
        words: list[str] = []
        while True:
            word = self.word()
            candidate = " ".join([*words, word])
            if len(candidate) > limit:
                break
            words.append(word)
            if len(candidate) >= target:
                break
        text = " ".join(words) or self.word()[:limit]
        if words and self.rng.random() < 0.3:
            text = text[0].upper() + text[1:]
        return text


@functools.cache
def vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """The most frequent English words (per the wordfreq package) and their probabilities."""
    words = [w for w in wordfreq.top_n_list("en", VOCABULARY_SIZE) if WORD_PATTERN.fullmatch(w)]
    frequencies = np.array([wordfreq.word_frequency(w, "en") for w in words])
    return np.array(words), frequencies / frequencies.sum()
