"""The line codec: the one definition of how a line's text becomes a label and back, and of the line sizes the line
datasets store. The mapping is the FSDL 80 classes; its last class, "_", both pads labels and is the CTC blank.
No TensorFlow or Keras: the predictors use it too."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PUNCTUATION = " !\"#&'()*+,-./:;?"
PADDING = "_"
MAPPING = [*ALPHANUMERIC, *PUNCTUATION, PADDING]  # The FSDL 80-class mapping; EMNIST fills classes 0-61.
LINE_HEIGHT = 32  # Of the lab's line networks; the PP-OCR networks read 48 (`line_height` of the line datasets).
LINE_WIDTH = 40 * LINE_HEIGHT  # Real lines (folders, PAGE XML, IAM) wider than 40 heights are squeezed to this.
SYNTHETIC_LINE_WIDTH = 20 * LINE_HEIGHT  # Synthetic texts are rendered at most this wide.
WIDTH_MULTIPLE = 8  # Lines of any width are cut to a multiple of this, the networks' narrowest step.
PAD_MULTIPLE = 64  # Lines are read zero-padded to a multiple of this width, so few distinct shapes reach a network.


def blank_index(mapping: Sequence[str]) -> int:
    """Class index of the CTC blank, which also pads labels: the mapping's last class."""
    return len(mapping) - 1


BLANK = blank_index(MAPPING)


def check_line_height(height: int) -> None:
    """Raise unless `height` is a line height the line networks read (a multiple of 16)."""
    if not isinstance(height, int) or height <= 0 or height % 16:
        raise ValueError(f"line_height must be a positive multiple of 16 (32, or 48 for PP-OCR), got {height}")


def encode(text: str, length: int) -> np.ndarray:
    """Map text to class indices, padded with the blank to `length`."""
    unknown = sorted(set(text) - set(MAPPING))
    if unknown or len(text) > length:
        raise ValueError(f"Cannot encode {text!r}: unknown characters {unknown} or longer than {length}")
    return np.array([MAPPING.index(c) for c in text] + [BLANK] * (length - len(text)), dtype=np.int64)


def decode(indices: np.ndarray) -> str:
    """Map class indices back to text, dropping blanks and padding."""
    return "".join(MAPPING[i] for i in indices if 0 <= i < BLANK)
