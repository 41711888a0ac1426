"""English word frequencies: the vocabulary of synthetic text and the word model that guides line decoding."""

from __future__ import annotations

import functools
import re
import string

import numpy as np
import wordfreq

VOCABULARY_SIZE = 30_000  # Most frequent English words (about 94 % of running text).
WORD_PATTERN = re.compile(r"[a-z]+(?:'[a-z]+)?")  # Plain words and contractions; no digits or symbols.
JOINERS = "-/&+*"  # Characters that join two words into one token ("well-known", "and/or").
JOINER_PATTERN = re.compile(f"[{re.escape(JOINERS)}]")
NUMBER_PATTERN = re.compile(r"\d+(?:[.,:]\d+)*")


@functools.cache
def vocabulary() -> tuple[np.ndarray, np.ndarray]:
    """The most frequent English words (per the wordfreq package) and their probabilities."""
    words = [w for w in wordfreq.top_n_list("en", VOCABULARY_SIZE) if WORD_PATTERN.fullmatch(w)]
    frequencies = np.array([wordfreq.word_frequency(w, "en") for w in words])
    return np.array(words), frequencies / frequencies.sum()


class WordModel:
    """Scores text by how English its words are: a unigram word language model over `vocabulary()`.

    A token (text between spaces) is split at joiners; each part, lowercased and stripped of punctuation (and of
    a possessive 's), scores `weight * log P(word) + bonus`. Numbers score as one word of probability
    `exp(number_log_prob)`; words outside the vocabulary (names, codes, misreadings) as `exp(unknown_log_prob)`.
    The bonus offsets the cost of each word, so the model does not prefer fewer, longer words.

    Args:
        weight: weight of the word log-probability against the recognizer's (natural) log-probability.
        bonus: score added per word.
        unknown_log_prob: log-probability of a word outside the vocabulary.
        number_log_prob: log-probability of a number.
        off_prefix_penalty: score of an unfinished word that no vocabulary word starts with.
    """

    def __init__(
        self,
        weight: float = 0.6,
        bonus: float = 4.5,
        unknown_log_prob: float = -14.0,
        number_log_prob: float = -7.0,
        off_prefix_penalty: float = -6.0,
    ) -> None:
        words, probabilities = vocabulary()
        self.log_probs = dict(zip(words.tolist(), np.log(probabilities).tolist(), strict=True))
        self.prefixes = {word[:end] for word in self.log_probs for end in range(1, len(word) + 1)}
        self.weight, self.bonus = weight, bonus
        self.unknown_log_prob, self.number_log_prob = unknown_log_prob, number_log_prob
        self.off_prefix_penalty = off_prefix_penalty
        self._token_scores: dict[str, float] = {}

    def token_score(self, token: str) -> float:
        """Score of a whole token (no spaces); an empty token (a doubled space) scores as an unknown word."""
        if not token:
            return self.weight * self.unknown_log_prob + self.bonus
        if token not in self._token_scores:
            words = [word for word in map(self.core, JOINER_PATTERN.split(token)) if word]
            self._token_scores[token] = sum(self.weight * self.word_log_prob(word) + self.bonus for word in words)
        return self._token_scores[token]

    def word_log_prob(self, word: str) -> float:
        """Log-probability of a lowercased word without punctuation."""
        if NUMBER_PATTERN.fullmatch(word):
            return self.number_log_prob
        if word not in self.log_probs and word.endswith("'s"):
            word = word[:-2]
        return self.log_probs.get(word, self.unknown_log_prob)

    def prefix_score(self, token: str) -> float:
        """Penalty of an unfinished token whose last word part no vocabulary word starts with (else 0)."""
        part = JOINER_PATTERN.split(token)[-1].lstrip(string.punctuation).lower()
        if part and part[-1].isalpha() and part not in self.prefixes:
            return self.off_prefix_penalty
        return 0.0

    @staticmethod
    def core(part: str) -> str:
        """A word part lowercased, without leading or trailing punctuation."""
        return part.strip(string.punctuation).lower()
