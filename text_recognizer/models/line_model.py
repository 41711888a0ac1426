"""Line recognition with one softmax per character position (FSDL LineModel), and the shared line-model base."""

from __future__ import annotations

import copy
import functools
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
from scipy import ndimage

from text_recognizer.augment import Augmenter
from text_recognizer.line_codec import blank_index
from text_recognizer.line_reader import LineReader
from text_recognizer.metrics import character_error_rate, exact_match_rate
from text_recognizer.models.base import Model
from text_recognizer.narrow_lines import char_widths, stretch_narrow_lines
from text_recognizer.preprocessing import ink_widths, round_up

CER_SAMPLE = 512  # Validation lines decoded after each epoch for the CER curve, spread over the validation split.
TRIM_MULTIPLE = 32  # Trimmed batches keep a width that is a multiple of this (whole network steps).
THIN_PROBABILITY = 0.35  # Training lines whose strokes are thinned (scans of pencil or fine pens).
THICKEN_PROBABILITY = 0.15  # Training lines whose strokes are thickened.
MIN_CONTRAST = 0.45  # Training lines keep between this fraction and all of their ink intensity.
CER_TARGET = 0.05  # Training reports when the validation CER first reaches this (time to target).


class LineModel(Model):
    """Reads fixed-width lines into `max_length` positions, padded with "_" (the mapping's last class)."""

    preprocessing = "line_input"
    monitor = ("val_cer", "min")
    decoding = "argmax"  # How the predictor turns network outputs into text: "argmax" or "ctc".

    def __init__(self, network: str, network_args: dict[str, Any], data_config: dict[str, Any]) -> None:
        if self.decoding == "argmax":  # The outputs must line up with the labels.
            network_args = {"output_length": data_config["output_shape"][0], **network_args}
        super().__init__(network, network_args, data_config)
        self.char_width: dict[str, float] | None = data_config.get("char_width")
        self.augmenter: Augmenter | None = None  # The weighted table of `dataset_args.augment`, if any.

    @property
    def blank(self) -> int:
        """Class index of the padding symbol (also the CTC blank), last in the mapping."""
        return blank_index(self.mapping)

    @property
    def variable_width(self) -> bool:
        """Whether the network reads lines of any width (else lines are fitted to the training width)."""
        return self.network.inputs[0].shape[-1] is None

    def sort_key(self, x: np.ndarray) -> np.ndarray | None:
        """Batch lines of similar length when the network reads any width, so each batch can be trimmed."""
        return ink_widths(x) if self.variable_width else None

    def augment_batch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Vary stroke width and ink contrast per line, as real pens and scans do (training batches only).

        The batch is trimmed first: transforms that touch the background (noise, brightness, blur) would leave no
        empty columns to trim afterwards.
        """
        x, n = self.trim(x), len(x)
        thin = rng.random(n) < THIN_PROBABILITY
        thick = ~thin & (rng.random(n) < THICKEN_PROBABILITY)
        if thin.any():
            x[thin] = ndimage.grey_erosion(x[thin], size=(1, 2, 2))
        if thick.any():
            x[thick] = ndimage.grey_dilation(x[thick], size=(1, 2, 2))
        x *= rng.uniform(MIN_CONTRAST, 1.0, (n, 1, 1)).astype(x.dtype)
        if self.augmenter is not None:
            x = self.augmenter(x, rng)
        return x, y

    def format_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trim the empty columns every line of the batch ends with (variable-width networks only)."""
        return self.trim(x), y

    def trim(self, x: np.ndarray) -> np.ndarray:
        """Lines without the empty columns they all end with, for variable-width networks."""
        if not self.variable_width:
            return x
        width = round_up(max(1, int(ink_widths(x).max())), TRIM_MULTIPLE)
        return x[:, :, : min(width, x.shape[-1])]

    def artifact(self) -> dict[str, Any]:
        """The base artifact plus what a predictor needs to decode: decoding and width handling."""
        artifact = {**super().artifact(), "decoding": self.decoding, "variable_width": self.variable_width}
        return artifact if self.char_width is None else {**artifact, "char_width": self.char_width}

    def fit(
        self, dataset: Any, train_args: dict[str, Any], callbacks: list | None = None, run_dir: Path | None = None
    ) -> Any:
        """Fit with a per-epoch validation CER and exact-line match; measure the training lines' char widths.

        A model that starts from saved weights (fine-tuning) keeps their char widths instead: the training lines
        narrower than those are stretched to them by their labels. Test lines are left alone: `predict_texts`
        stretches them by what it reads, as the predictor does.
        """
        if self.char_width is None:
            self.char_width = char_widths(dataset.x_train, dataset.y_train, self.blank)
        else:  # A copy of the dataset holds the stretched lines: the caller's stays as it was.
            dataset = copy.copy(dataset)
            dataset.x_train = stretch_narrow_lines(dataset.x_train, dataset.y_train, self.char_width, self.blank)
        return super().fit(dataset, train_args, callbacks, run_dir)

    def validation_callbacks(self, x_val: np.ndarray, y_val: np.ndarray) -> list[keras.callbacks.Callback]:
        """The validation CER and exact-line match, on up to CER_SAMPLE lines spread over the validation rows."""
        rows = np.linspace(0, len(x_val) - 1, min(CER_SAMPLE, len(x_val))).astype(int)
        return [CerCallback(self, x_val[rows], y_val[rows])]

    def predict_texts(self, x: np.ndarray, batch_size: int = 64) -> list[str]:
        """Read dataset lines as the model's `LinePredictor` reads lines (see `text_recognizer.line_reader`), running
        the network in batches of `batch_size`."""
        width = None if self.variable_width else self.data_config["input_shape"][1]
        run = functools.partial(self.predict, batch_size=batch_size)
        return [text for text, _ in LineReader(run, self.mapping, self.decoding, width, self.char_width).read(list(x))]

    def label_texts(self, y: np.ndarray) -> list[str]:
        """The texts of label rows (class indices padded with the blank)."""
        return ["".join(self.mapping[i] for i in label if i != self.blank) for label in y]

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 64) -> dict[str, float]:
        """Corpus CER and exact-line match."""
        predictions = self.predict_texts(x, batch_size)
        references = self.label_texts(y)
        return {
            "cer": character_error_rate(predictions, references),
            "exact": exact_match_rate(predictions, references),
        }


class CerCallback(keras.callbacks.Callback):
    """Adds `val_cer`, `val_exact` and `elapsed_s` (seconds since training began) to the logs after every epoch.

    It also prints when the validation CER first reaches CER_TARGET.
    """

    def __init__(self, model: LineModel, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.line_model, self.x, self.y = model, x, y
        self.start = time.monotonic()
        self.reached = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Start the clock."""
        self.start, self.reached = time.monotonic(), False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Decode the sample and log its CER."""
        metrics = self.line_model.evaluate(self.x, self.y)
        elapsed = time.monotonic() - self.start
        if logs is not None:
            logs["val_cer"], logs["val_exact"], logs["elapsed_s"] = metrics["cer"], metrics["exact"], elapsed
        print(f"epoch {epoch + 1}: val_cer={metrics['cer']:.4f} val_exact={metrics['exact']:.3f} after {elapsed:.0f} s")
        if metrics["cer"] <= CER_TARGET and not self.reached:
            self.reached = True
            print(f"validation CER reached the {CER_TARGET:.0%} target after {elapsed:.0f} s (epoch {epoch + 1})")
