"""Decoding network outputs in numpy: CTC greedy or word-guided beam search, or per position (no TensorFlow or
Keras on the inference path)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from text_recognizer.english import WordModel

Beams = dict[str, tuple[float, float, float]]  # Text -> log P(ending in blank), log P(ending in a character), words.


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    return np.exp(log_softmax(logits))


def geometric_mean(probabilities: np.ndarray) -> float:
    """Geometric mean of probabilities (0.0 for none): near 1 only when every one of them is."""
    return float(np.exp(np.log(probabilities + 1e-12).mean())) if len(probabilities) else 0.0


def greedy_decode(logits: np.ndarray, lengths: np.ndarray, blank: int) -> list[tuple[list[int], float]]:
    """Best path per sequence: argmax per step, repeats merged, blanks dropped.

    Args:
        logits: (batch, steps, classes).
        lengths: valid steps of each sequence.
        blank: index of the CTC blank.

    Returns:
        Per sequence, the class indices and a confidence: the geometric mean of the best path's per-step
        probabilities (1.0 when every step is certain; one unsure character pulls it down).
    """
    probs = softmax(logits.astype(np.float32))
    results = []
    for p, length in zip(probs, lengths, strict=True):
        p = p[: int(length)]
        best = p.argmax(axis=-1)
        keep = (best != blank) & np.concatenate([[True], best[1:] != best[:-1]])
        results.append((best[keep].tolist(), geometric_mean(p.max(axis=-1))))
    return results


def word_beam_search(
    logits: np.ndarray, mapping: Sequence[str], blank: int, words: WordModel, beam_width: int = 8, prune: float = -6.0
) -> tuple[str, float]:
    """CTC prefix beam search that ranks texts by the recognizer's probability and the word model's score.

    A text's rank is its log-probability under the recognizer (summed over all its alignments), plus the score of
    its finished words (scored as a space or the end finishes them) and the penalty of its unfinished word.

    Args:
        logits: (steps, classes) of one line, valid steps only.
        mapping: the character of each class.
        blank: index of the CTC blank.
        words: scores words (see `text_recognizer.english.WordModel`).
        beam_width: texts kept after each step.
        prune: characters below this log-probability at a step are not tried there.

    Returns:
        The best text and its confidence: the per-step geometric mean of the recognizer's probability of that
        text (1.0 only when every step is certain).
    """
    log_probs = log_softmax(logits.astype(np.float32))
    beams: Beams = {"": (0.0, -math.inf, 0.0)}
    for step_log_probs in log_probs:
        row = step_log_probs.tolist()
        candidates = [c for c in np.flatnonzero(step_log_probs > prune).tolist() if c != blank]
        extended: Beams = {}
        for text, (blank_end, char_end, finished) in beams.items():
            total = log_add(blank_end, char_end)
            _add(extended, text, total + row[blank], -math.inf, finished)
            for c in candidates:
                char = mapping[c]
                source = total
                if text.endswith(char):  # A repeat merges unless a blank separates it.
                    _add(extended, text, -math.inf, char_end + row[c], finished)
                    source = blank_end
                if char == " ":
                    finished_words = finished + words.token_score(last_token(text))
                else:
                    finished_words = finished
                _add(extended, text + char, -math.inf, source + row[c], finished_words)
        beams = dict(
            heapq.nlargest(
                beam_width,
                extended.items(),
                key=lambda item: log_add(*item[1][:2]) + item[1][2] + words.prefix_score(last_token(item[0])),
            )
        )

    def final_rank(item: tuple[str, tuple[float, float, float]]) -> float:
        token = last_token(item[0])
        return log_add(*item[1][:2]) + item[1][2] + (words.token_score(token) if token else 0.0)

    text, (blank_end, char_end, _) = max(beams.items(), key=final_rank)
    return text, math.exp(log_add(blank_end, char_end) / max(1, len(log_probs)))


def _add(beams: Beams, text: str, blank_end: float, char_end: float, finished: float) -> None:
    """Add probability mass to `text`'s beam, creating it when new."""
    if text in beams:
        old_blank_end, old_char_end, finished = beams[text]
        blank_end, char_end = log_add(old_blank_end, blank_end), log_add(old_char_end, char_end)
    beams[text] = (blank_end, char_end, finished)


def last_token(text: str) -> str:
    """The text after its last space."""
    return text[text.rfind(" ") + 1 :]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def log_add(a: float, b: float) -> float:
    """log(exp(a) + exp(b)) without overflow."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def argmax_decode(probs: np.ndarray, padding: int) -> list[tuple[list[int], float]]:
    """Per-position decoding of fixed-length outputs: argmax per position, stopping at the first padding.

    Args:
        probs: (batch, positions, classes) softmax outputs.
        padding: index of the padding symbol.

    Returns:
        Per sequence, the class indices and the geometric mean of the chosen probabilities up to the padding.
    """
    results = []
    for p in probs:
        best = p.argmax(axis=-1)
        end = int(np.argmax(best == padding)) if (best == padding).any() else len(best)
        chosen = p[np.arange(len(best)), best][: end + 1]  # The padding decision counts towards confidence.
        results.append((best[:end].tolist(), geometric_mean(chosen)))
    return results


def required_steps(label: np.ndarray, blank: int) -> int:
    """Fewest output steps CTC needs for a label: its length plus one blank between repeated characters."""
    chars = label[label != blank]
    return int(len(chars) + np.sum(chars[1:] == chars[:-1]))
