"""Keras PyDataset over in-memory arrays: shuffled batches with optional augmentation and formatting."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

BatchFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetSequence(keras.utils.PyDataset):
    """Batches of (x, y); `augment_fn` runs on training batches only, `format_fn` on every batch."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        augment_fn: BatchFn | None = None,
        format_fn: BatchFn | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.augment_fn, self.format_fn = augment_fn, format_fn
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x)) if shuffle else np.arange(len(x))

    def __len__(self) -> int:
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        x, y = self.x[rows].astype(np.float32), self.y[rows]
        if self.augment_fn is not None:
            x, y = self.augment_fn(x, y)
        if self.format_fn is not None:
            x, y = self.format_fn(x, y)
        return x, y

    def on_epoch_end(self) -> None:
        """Reshuffle between epochs."""
        if self.shuffle:
            self.order = self.rng.permutation(len(self.x))
