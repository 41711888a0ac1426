"""Network-input lines to text: the one reading path of `LinePredictor` and of a line model's validation and test CER.

A line is a (height, width) array, white ink on black, left-aligned (see `preprocessing.fit_line`). A network that
reads any width gets each line cut a few columns after its last ink (rounded up to WIDTH_MULTIPLE), zero-padded to the
next multiple of PAD_MULTIPLE, one network call per padded width. A line thus reads the same alone or in any batch,
loaded from a file or taken from a dataset whose rows are padded to a fixed width, in training or in serving.
No TensorFlow or Keras: the network runs behind `run` (ONNX Runtime or Keras).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from text_recognizer.ctc import argmax_decode, greedy_decode, word_beam_search
from text_recognizer.line_codec import PAD_MULTIPLE, WIDTH_MULTIPLE, blank_index
from text_recognizer.narrow_lines import narrow_stretch, stretch_line
from text_recognizer.preprocessing import INK_THRESHOLD, ink_widths, round_up

if TYPE_CHECKING:
    from text_recognizer.english import WordModel

# Empty columns a line keeps after its last ink at least: networks may give the last character at a step past it.
INK_TAIL = 4

Reading = tuple[str, float]  # A line's text and its confidence in [0, 1].


class LineReader:
    """Reads network-input lines with a network and decodes them as the model was trained.

    Args:
        run: the network on a float32 batch (batch, height, width): per-step logits for CTC models, per-position
            probabilities otherwise.
        mapping: the model's characters by class index; the last is the CTC blank and padding.
        decoding: "ctc" or "argmax" (a fixed number of positions).
        width: the network's fixed input width, or None for a network that reads any width.
        char_width: the training lines' ink columns per character (see `text_recognizer.narrow_lines`): lines read
            narrower are stretched and read again. Only for networks that read any width.
        words: an English word model for a beam search instead of greedy CTC decoding.
    """

    def __init__(
        self,
        run: Callable[[np.ndarray], np.ndarray],
        mapping: Sequence[str],
        decoding: str,
        width: int | None = None,
        char_width: dict[str, float] | None = None,
        words: WordModel | None = None,
    ) -> None:
        self.run, self.mapping, self.blank = run, list(mapping), blank_index(mapping)
        self.ctc, self.width, self.words = decoding == "ctc", width, words
        self.char_width = char_width if width is None else None

    def read(self, lines: Sequence[np.ndarray]) -> list[Reading]:
        """The (text, confidence) of each line, in order; a line without ink reads as "" with confidence 1.0."""
        cut = [self.cut(line) for line in lines]
        readings = self._read_grouped(cut)
        if self.char_width is not None:
            self._reread_narrow(cut, readings, self.char_width)
        return readings

    def outputs(self, lines: Sequence[np.ndarray]) -> np.ndarray:
        """Raw network outputs (batch, steps, classes) of all lines in one batch, for comparing backends."""
        cut = [self.cut(line) for line in lines]
        return self.run(self.stack(cut, max(self.padded_width(line.shape[1]) for line in cut)))

    def cut(self, line: np.ndarray) -> np.ndarray:
        """The line without the empty columns after its ink (networks of a fixed width: the line as it is)."""
        if self.width is not None:
            return line
        return line[:, : round_up(int(ink_widths(line[None])[0]) + INK_TAIL, WIDTH_MULTIPLE)]

    def padded_width(self, width: int) -> int:
        """Width a line of `width` is padded to: the next multiple of PAD_MULTIPLE, or the fixed input width."""
        return round_up(width, PAD_MULTIPLE) if self.width is None else self.width

    def stack(self, lines: Sequence[np.ndarray], width: int) -> np.ndarray:
        """Zero-pad lines to `width` and stack them into a float batch (batch, height, width)."""
        x = np.zeros((len(lines), lines[0].shape[0], width), dtype=np.float32)
        for row, line in zip(x, lines, strict=True):
            row[:, : line.shape[1]] = line
        return x

    def _reread_narrow(self, lines: list[np.ndarray], readings: list[Reading], char_width: dict[str, float]) -> None:
        """Replace the readings of lines narrower per character than the training lines by stretched readings."""
        narrow, stretched = [], []
        for index, (line, (text, _)) in enumerate(zip(lines, readings, strict=True)):
            factor = narrow_stretch(int(ink_widths(line[None])[0]), len(text), char_width)
            if factor > 1:
                narrow.append(index)
                stretched.append(self.cut(stretch_line(line, factor)))
        for index, reading in zip(narrow, self._read_grouped(stretched), strict=True):
            readings[index] = reading

    def _read_grouped(self, lines: list[np.ndarray]) -> list[Reading]:
        """Read cut lines, one network call per padded width."""
        groups: dict[int, list[int]] = {}
        for index, line in enumerate(lines):
            groups.setdefault(self.padded_width(line.shape[1]), []).append(index)
        readings: list[Reading] = [("", 1.0)] * len(lines)
        for width, indices in groups.items():
            for index, reading in zip(indices, self._read([lines[i] for i in indices], width), strict=True):
                readings[index] = reading
        return readings

    def _read(self, lines: list[np.ndarray], width: int) -> list[Reading]:
        x = self.stack(lines, width)
        outputs = self.run(x)  # Every step decodes, as CTC training scores every step of a batch.
        if not self.ctc:
            read = [(self.text(indices), conf) for indices, conf in argmax_decode(outputs, self.blank)]
        elif self.words is not None:
            read = [word_beam_search(logits, self.mapping, self.blank, self.words) for logits in outputs]
        else:
            steps = np.full(len(x), outputs.shape[1])
            read = [(self.text(indices), conf) for indices, conf in greedy_decode(outputs, steps, self.blank)]
        inked = x.reshape(len(x), -1).max(axis=1) >= INK_THRESHOLD * 255
        return [reading if has_ink else ("", 1.0) for reading, has_ink in zip(read, inked, strict=True)]

    def text(self, indices: list[int]) -> str:
        """The characters of class indices."""
        return "".join(self.mapping[i] for i in indices)
