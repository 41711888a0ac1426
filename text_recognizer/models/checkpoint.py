"""Per-epoch checkpoints that a killed run resumes from, the best epoch's weights, and a clean stop on NaN loss."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import keras
import numpy as np

from text_recognizer.datasets.dataset import atomic_path
from text_recognizer.run_files import BEST, CHECKPOINT


def _write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as one .npz atomically: a reader finds the old file or the new one, never a torn one."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez(f, allow_pickle=False, **arrays)


def _read_arrays(data: Any, prefix: str) -> list[np.ndarray]:
    count = sum(key.startswith(prefix) for key in data.files)
    return [data[f"{prefix}{i}"] for i in range(count)]


def is_better(value: float, best: float | None, mode: str) -> bool:
    """Whether `value` improves on `best` ("min": lower is better, "max": higher); NaN never does."""
    if not math.isfinite(value):
        return False
    return best is None or (value < best if mode == "min" else value > best)


def seed_states(network: keras.Model) -> list[keras.Variable]:
    """The states of the random generators in the network's layers (e.g. dropout): its variables that are not
    weights."""
    weights = {id(w) for w in network.weights}
    return [v for v in network.variables if id(v) not in weights]


class EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch whose loss is finite: saves a checkpoint, and the weights again when the epoch is the best.

    Args:
        run_dir: the run's directory.
        monitor: validation metric that ranks epochs, e.g. "val_cer".
        mode: "min" or "max".
        ema: the fit's `SwapInAverage`, if it averages weights: whether the network holds the average at the
            epoch's end is saved, so that a resumed run swaps the trained weights back in.
        early_stopping: the fit's `EarlyStopping`, if any: its patience count and best value are saved and
            restored (it must come before this callback, which restores them after it resets itself).

    The random states of the network's layers (dropout) are saved too, so a resumed run repeats the steps that an
    uninterrupted one would have taken.
    """

    def __init__(
        self,
        run_dir: Path,
        monitor: str,
        mode: str,
        ema: Any = None,
        early_stopping: keras.callbacks.EarlyStopping | None = None,
    ) -> None:
        super().__init__()
        self.run_dir, self.monitor, self.mode, self.ema = run_dir, monitor, mode, ema
        self.early_stopping = early_stopping
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopping_state: dict[str, Any] | None = None  # Restored, for `early_stopping` once training begins.

    def restore(self, network: keras.Model) -> int:
        """Load the run's checkpoint into the compiled `network`, if there is one; return the epochs done."""
        for stale in self.run_dir.glob(".*.part"):  # Left by a write that a kill interrupted.
            stale.unlink()
        path = self.run_dir / CHECKPOINT
        if not path.exists():
            return 0
        with np.load(path) as data:
            state = json.loads(str(data["state"]))
            network.set_weights(_read_arrays(data, "weight"))
            network.optimizer.build(network.trainable_variables)
            variables = [*network.optimizer.variables, *seed_states(network)]
            saved = [*_read_arrays(data, "optimizer"), *_read_arrays(data, "seed")]
            if len(saved) != len(variables):
                raise ValueError(f"{path} holds another model's training state; resume with the run's own config")
            for variable, value in zip(variables, saved, strict=True):
                variable.assign(value)
        self.stopping_state = state.get("early_stopping")
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        if self.ema is not None:
            self.ema.average_in_model = state["average_in_model"]
        return int(state["epoch"])

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Give the early stopping the patience count and best value that it had when the checkpoint was saved."""
        if self.early_stopping is not None and self.stopping_state is not None:
            for key, value in self.stopping_state.items():
                setattr(self.early_stopping, key, value)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Save the best weights if this epoch is the best, then the checkpoint (in that order, so a resumed run
        never has a checkpoint newer than its best weights)."""
        logs = logs or {}
        if not math.isfinite(float(logs.get("loss", math.nan))):
            return  # Keep the last good checkpoint (see StopOnNonFiniteLoss).
        network = self.model
        weights = {f"weight{i}": w for i, w in enumerate(network.get_weights())}
        if is_better(float(logs.get(self.monitor, math.nan)), self.best, self.mode):
            self.best, self.best_epoch = float(logs[self.monitor]), epoch + 1
            _write_arrays(self.run_dir / BEST, weights)
        optimizer = {f"optimizer{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(network.optimizer.variables)}
        seeds = {f"seed{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(seed_states(network))}
        state: dict[str, Any] = {
            "epoch": epoch + 1,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "average_in_model": bool(self.ema is not None and self.ema.average_in_model),
        }
        if self.early_stopping is not None:
            stopping = self.early_stopping
            best = None if stopping.best is None else float(stopping.best)
            state["early_stopping"] = {"wait": stopping.wait, "best": best, "best_epoch": stopping.best_epoch}
        arrays = {**weights, **optimizer, **seeds, "state": np.array(json.dumps(state))}
        _write_arrays(self.run_dir / CHECKPOINT, arrays)

    def load_best(self, network: keras.Model) -> None:
        """Put the best epoch's weights into `network` (no change when no epoch had a finite monitored value)."""
        path = self.run_dir / BEST
        if path.exists():
            with np.load(path) as data:
                network.set_weights(_read_arrays(data, "weight"))


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, and records where."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped_at: tuple[int, int] | None = None  # (epoch, batch), counted from 1.
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch for the report."""
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Stop on a non-finite loss."""
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss) and self.stopped_at is None:
            self.stopped_at = (self.epoch + 1, batch + 1)
            self.model.stop_training = True
