"""Line recognition with CTC: per-step logits, blank = the mapping's last class ("_")."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from text_recognizer.ctc import greedy_decode, required_steps
from text_recognizer.models.line_model import LineModel


class LineModelCtc(LineModel):
    """Trains a line network with CTC loss; decodes greedily."""

    decoding = "ctc"

    def loss(self) -> Any:
        """CTC loss over blank-padded labels, through TensorFlow's native CTC kernel.

        The labels go in sparse (label lengths count the non-blank entries): the same values as
        `keras.ops.ctc_loss`, which pads labels densely and is several times slower on CPU. A line too narrow for
        its label (fewer steps than CTC needs), or with an empty label, adds zero loss and zero gradient instead
        of an infinite loss or a failed batch.
        """
        blank = self.blank

        def ctc_loss(y_true: Any, y_pred: Any) -> Any:
            y_true = tf.cast(y_true, tf.int32)
            steps = tf.shape(y_pred)[1]
            inked = tf.not_equal(y_true, blank)
            repeats = tf.logical_and(inked[:, 1:], tf.equal(y_true[:, 1:], y_true[:, :-1]))
            needed = tf.reduce_sum(tf.cast(inked, tf.int32), 1) + tf.reduce_sum(tf.cast(repeats, tf.int32), 1)
            fits = (needed > 0) & (needed <= steps)
            # Other rows get a one-character stand-in label (the kernel rejects empty ones) and zero weight.
            stand_in = tf.concat([tf.zeros_like(y_true[:, :1]), tf.fill(tf.shape(y_true[:, 1:]), blank)], axis=1)
            y_true = tf.where(fits[:, None], y_true, stand_in)
            where = tf.where(tf.not_equal(y_true, blank))
            labels = tf.SparseTensor(where, tf.gather_nd(y_true, where), tf.shape(y_true, out_type=tf.int64))
            logit_length = tf.fill([tf.shape(y_pred)[0]], steps)
            loss = tf.nn.ctc_loss(labels, y_pred, None, logit_length, logits_time_major=False, blank_index=blank)
            return loss * tf.cast(fits, loss.dtype)

        return ctc_loss

    def metrics(self) -> list[Any]:
        """CER is computed by decoding (see `CerCallback`), not as a graph metric."""
        return []

    def output_steps(self, width: int) -> int:
        """Output steps the network gives for a line `width` pixels wide."""
        height = self.data_config["input_shape"][0]
        return int(self.network.predict_on_batch(np.zeros((1, height, width), dtype=np.float32)).shape[1])

    def check_lengths(self, labels: np.ndarray, width: int) -> None:
        """Raise if some label needs more CTC steps than a `width`-pixel line yields."""
        steps = self.output_steps(width)
        needed = max(required_steps(label, self.blank) for label in labels)
        if needed > steps:
            raise ValueError(
                f"A label needs {needed} CTC steps (length + repeats) but {width}-px lines give {steps}; "
                "use wider lines or shorter labels"
            )

    def fit(self, dataset: Any, train_args: dict[str, Any], callbacks: list | None = None) -> Any:
        """Check CTC's length rule, then fit as a line model."""
        self.check_lengths(dataset.y_train, dataset.x_train.shape[-1])
        return super().fit(dataset, train_args, callbacks)

    def decode(self, outputs: np.ndarray) -> list[tuple[str, float]]:
        """Decode logits greedily, as `LinePredictor` does (see `text_recognizer.ctc.greedy_decode`)."""
        decoded = greedy_decode(outputs, np.full(len(outputs), outputs.shape[1]), self.blank)
        return [("".join(self.mapping[i] for i in indices), confidence) for indices, confidence in decoded]
