"""Decoding network outputs in numpy, CTC greedy or per position (no TensorFlow or Keras on the inference path)."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


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
