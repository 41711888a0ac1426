"""Line recognition with CTC: per-step logits, blank = the mapping's last class ("_")."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from text_recognizer.ctc import greedy_decode, required_steps
from text_recognizer.metrics import character_error_rate, exact_match_rate
from text_recognizer.models.base import Model, validation_mask

STEP_WIDTH = 4  # Input columns per output step of the line networks.
CER_SAMPLE = 512  # Validation lines decoded after each epoch for the CER curve.


class LineModelCtc(Model):
    """Trains a line network with CTC loss and reports CER and exact-line match."""

    preprocessing = "line_input"

    @property
    def blank(self) -> int:
        """Class index of the CTC blank (the padding symbol, last in the mapping)."""
        return len(self.mapping) - 1

    def loss(self) -> Any:
        """CTC loss over padded labels; label lengths count the non-blank entries."""
        blank = self.blank

        def ctc_loss(y_true: Any, y_pred: Any) -> Any:
            y_true = ops.cast(y_true, "int32")
            label_length = ops.sum(ops.cast(ops.not_equal(y_true, blank), "int32"), axis=-1)
            steps = ops.shape(y_pred)[1]
            logit_length = ops.ones_like(label_length) * steps
            return ops.ctc_loss(y_true, y_pred, label_length, logit_length, mask_index=blank)

        return ctc_loss

    def metrics(self) -> list[Any]:
        """CER is computed by decoding (see `CerCallback`), not as a graph metric."""
        return []

    def check_lengths(self, labels: np.ndarray, width: int) -> None:
        """Raise if some label needs more CTC steps than a `width`-pixel line yields."""
        steps = width // STEP_WIDTH
        needed = max(required_steps(label, self.blank) for label in labels)
        if needed > steps:
            raise ValueError(
                f"A label needs {needed} CTC steps (length + repeats) but {width}-px lines give {steps}; "
                "use wider lines or shorter labels"
            )

    def fit(self, dataset: Any, train_args: dict[str, Any], callbacks: list | None = None) -> Any:
        """Check CTC's length rule, then fit with a per-epoch validation CER."""
        self.check_lengths(dataset.y_train, dataset.x_train.shape[-1])
        val_rows = np.flatnonzero(validation_mask(len(dataset.x_train)))[:CER_SAMPLE]
        cer = CerCallback(self, dataset.x_train[val_rows], dataset.y_train[val_rows])
        return super().fit(dataset, train_args, [cer, *(callbacks or [])])

    def decode(self, logits: np.ndarray, lengths: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Greedy-decode logits into (text, confidence) pairs."""
        lengths = np.full(len(logits), logits.shape[1]) if lengths is None else lengths
        decoded = greedy_decode(logits, lengths, self.blank)
        return [("".join(self.mapping[i] for i in indices), conf) for indices, conf in decoded]

    def predict_texts(self, x: np.ndarray, batch_size: int = 64) -> list[str]:
        """Read a batch of preprocessed lines."""
        logits = self.network.predict(x.astype(np.float32), batch_size=batch_size, verbose=0)
        return [text for text, _ in self.decode(logits)]

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 64) -> dict[str, float]:
        """Corpus CER and exact-line match of greedy decoding."""
        predictions = self.predict_texts(x, batch_size)
        references = ["".join(self.mapping[i] for i in label if i != self.blank) for label in y]
        return {
            "cer": character_error_rate(predictions, references),
            "exact": exact_match_rate(predictions, references),
        }


class CerCallback(keras.callbacks.Callback):
    """Adds `val_cer` (and `val_exact`) to the logs at the end of every epoch."""

    def __init__(self, model: LineModelCtc, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.line_model, self.x, self.y = model, x, y

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Decode the sample and log its CER."""
        metrics = self.line_model.evaluate(self.x, self.y)
        if logs is not None:
            logs["val_cer"], logs["val_exact"] = metrics["cer"], metrics["exact"]
        print(f"epoch {epoch + 1}: val_cer={metrics['cer']:.4f} val_exact={metrics['exact']:.3f}")
