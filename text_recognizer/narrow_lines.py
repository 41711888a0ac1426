"""Lines written more narrowly than a model's training lines: measured in training, stretched for reading.

Scaled to the network's height, real lines with tall ascenders and descenders are often far narrower per character
than the training lines. Training records the training lines' ink columns per character in the artifact
(`char_width`: the narrowest and the typical); a predictor stretches a line read with fewer columns per character
than the narrowest to the typical width and reads it again, and fine-tuning stretches its lines the same way.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from text_recognizer.line_codec import WIDTH_MULTIPLE
from text_recognizer.preprocessing import ink_widths, round_up

MAX_STRETCH = 3.0  # Most a line narrower than a model's training lines is stretched.
MIN_STRETCH_CHARS = 4  # Fewer characters say little of a hand's width ("I" is narrow in any hand): never stretched.


def char_widths(x: np.ndarray, y: np.ndarray, blank: int) -> dict[str, float]:
    """Ink columns per character of labelled lines: the narrowest (1st percentile) and the typical (median) line.

    A predictor stretches lines narrower than any it was trained on to the typical width (see `LinePredictor`).
    """
    chars = (y != blank).sum(axis=1)
    widths = ink_widths(x)[chars > 0] / chars[chars > 0]
    return {"narrowest": round(float(np.percentile(widths, 1)), 2), "typical": round(float(np.median(widths)), 2)}


def stretch_narrow_lines(x: np.ndarray, y: np.ndarray, char_width: dict[str, float], blank: int) -> np.ndarray:
    """Lines stretched as the predictor of a model trained at `char_width` stretches them (by their true lengths)."""
    x = x.copy()
    for row, width, chars in zip(x, ink_widths(x), (y != blank).sum(axis=1), strict=True):
        factor = min(narrow_stretch(int(width), int(chars), char_width), row.shape[1] / max(1, width))
        if factor > 1:
            line = stretch_line(row[:, :width], factor)
            row[:] = 0
            row[:, : line.shape[1]] = line
    return x


def stretch_line(line: np.ndarray, factor: float) -> np.ndarray:
    """Scale a network-input line horizontally by `factor`, its width rounded up to a multiple of WIDTH_MULTIPLE."""
    width = round_up(max(1, round(line.shape[1] * factor)), WIDTH_MULTIPLE)
    return np.asarray(Image.fromarray(line).resize((width, line.shape[0]), Image.Resampling.BILINEAR))


def narrow_stretch(ink_width: int, chars: int, char_width: dict[str, float]) -> float:
    """Horizontal scale that gives a line of `chars` characters in `ink_width` columns a model's training widths.

    Lines with fewer ink columns per character than `char_width["narrowest"]` are stretched to `["typical"]` (at
    most MAX_STRETCH times); others, and lines of fewer than MIN_STRETCH_CHARS characters, keep their width (1.0).
    """
    per_char = ink_width / max(1, chars)
    if chars < MIN_STRETCH_CHARS or per_char >= char_width["narrowest"] or ink_width == 0:
        return 1.0
    return min(MAX_STRETCH, char_width["typical"] / per_char)
