"""Text recognition metrics: corpus-level character error rate and exact-line match."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein


def character_error_rate(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Total edit distance over total reference characters."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    edits = sum(Levenshtein.distance(p, r) for p, r in zip(predictions, references, strict=True))
    return edits / max(1, sum(len(r) for r in references))


def exact_match_rate(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Fraction of lines read exactly."""
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / max(1, len(references))
