"""Keras callbacks that fill a run directory each epoch: timings, curves, validation lines as read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from training.runs import CURVES, PREDICTIONS, curves, draw_predictions, log_image_to_wandb, plot_curves


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_s`, the epoch's wall-clock seconds, to the epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Start the clock."""
        self.start = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Log the epoch's seconds."""
        if logs is not None:
            logs["epoch_s"] = time.monotonic() - self.start


class CurvesPlot(keras.callbacks.Callback):
    """Redraws `curves.png` from `metrics.csv` after every epoch: losses on one panel, other metrics on another."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Plot every epoch so far."""
        history = curves(self.run_dir)
        if history:
            plot_curves(history, self.run_dir / CURVES)


class PredictionImages(keras.callbacks.Callback):
    """After every epoch, writes a few validation lines with what the model read and the truth, as one image.

    Args:
        run_dir: the run's directory; images go to `predictions/epoch-NNN.png`.
        line_model: a model with `predict_texts` and `label_texts` (a line model).
        x, y: the validation lines and labels to show.
    """

    def __init__(self, run_dir: Path, line_model: Any, x: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.run_dir, self.line_model, self.x = run_dir, line_model, x
        self.truths = line_model.label_texts(y)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Read the lines and draw them."""
        path = self.run_dir / PREDICTIONS / f"epoch-{epoch + 1:03d}.png"
        path.parent.mkdir(exist_ok=True)
        draw_predictions(self.x, self.line_model.predict_texts(self.x), self.truths, path)
        log_image_to_wandb("predictions", path, epoch)
