"""Line recognition with CTC: per-step logits, blank = the mapping's last class ("_")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from keras import ops

from text_recognizer.ctc import required_steps
from text_recognizer.models.line_model import LineModel


class LineModelCtc(LineModel):
    """Trains a line network with CTC loss; decodes greedily."""

    decoding = "ctc"

    def loss(self) -> Any:
        """CTC loss over blank-padded labels, in `keras.ops` so that it trains on any Keras backend.

        A line too narrow for its label (fewer steps than CTC needs), or with an empty label, adds zero loss and
        zero gradient instead of an infinite loss or a failed batch.
        """
        blank = self.blank

        def ctc_loss(y_true: Any, y_pred: Any) -> Any:
            y_true = ops.cast(y_true, "int32")  # (batch, max_length), blank-padded.
            y_pred = ops.cast(y_pred, "float32")  # CTC in bfloat16 (`mixed_bfloat16` training) loses too much.
            steps = ops.shape(y_pred)[1]
            inked = ops.not_equal(y_true, blank)
            repeats = ops.logical_and(inked[:, 1:], ops.equal(y_true[:, 1:], y_true[:, :-1]))
            lengths = ops.sum(ops.cast(inked, "int32"), axis=1)
            needed = lengths + ops.sum(ops.cast(repeats, "int32"), axis=1)
            fits = ops.logical_and(needed > 0, needed <= steps)
            # Other rows get a one-character stand-in label and zero weight (multiplying an infinite loss by zero
            # would give NaN).
            stand_in = ops.concatenate([ops.zeros_like(y_true[:, :1]), ops.full_like(y_true[:, 1:], blank)], axis=1)
            y_true = ops.where(fits[:, None], y_true, stand_in)
            lengths = ops.where(fits, lengths, ops.ones_like(lengths))
            output_lengths = ops.full_like(lengths, steps)
            loss = ops.ctc_loss(y_true, y_pred, lengths, output_lengths, mask_index=blank)
            return loss * ops.cast(fits, loss.dtype)

        return ctc_loss

    def metrics(self) -> list[Any]:
        """CER is computed by decoding (see `CerCallback`), not as a graph metric."""
        return []

    def output_steps(self, width: int) -> int:
        """Output steps the network gives for a line `width` pixels wide."""
        height = self.data_config["input_shape"][0]
        return int(self.predict(np.zeros((1, height, width), dtype=np.float32), 1).shape[1])

    def check_lengths(self, labels: np.ndarray, width: int) -> None:
        """Raise if some label needs more CTC steps than a `width`-pixel line yields."""
        steps = self.output_steps(width)
        needed = max(required_steps(label, self.blank) for label in labels)
        if needed > steps:
            raise ValueError(
                f"A label needs {needed} CTC steps (length + repeats) but {width}-px lines give {steps}; "
                "use wider lines or shorter labels"
            )

    def fit(
        self, dataset: Any, train_args: dict[str, Any], callbacks: list | None = None, run_dir: Path | None = None
    ) -> Any:
        """Check CTC's length rule, then fit as a line model."""
        self.check_lengths(dataset.y_train, dataset.x_train.shape[-1])
        return super().fit(dataset, train_args, callbacks, run_dir)
