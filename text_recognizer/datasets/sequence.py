"""Keras PyDataset over in-memory arrays: shuffled (optionally size-bucketed) batches, augmentation, formatting."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

BatchFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
AugmentFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]
BUCKET_JITTER = 0.1  # Sort-key noise, as a fraction of the key's range, so bucketed batches change every epoch.


class DatasetSequence(keras.utils.PyDataset):
    """Batches of (x, y); `augment_fn` runs on training batches only, `format_fn` on every batch.

    A shuffled sequence runs on without end, epoch after epoch (fit it with `steps_per_epoch=len(sequence)`):
    index i is batch i % len of epoch `first_epoch` + i // len. Batch order and augmentation thus depend only on
    (seed, epoch, batch), not on when Keras calls the epoch hooks (its tf.data prefetch reads the next epoch's
    first batches before `on_epoch_end`). `augment_fn` gets a generator seeded with the three, so a batch looks
    the same however often it is read, and a resumed epoch sees what it would have seen.

    With `sort_key` (e.g. each line's ink width), batches hold rows of similar key, so `format_fn` can trim
    the padding they share; shuffling then shuffles the batches and, through jittered keys, their members.
    With `shard` (index, count), a process of multi-process training gets rows index, index + count, … of each.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = False,
        augment_fn: AugmentFn | None = None,
        format_fn: BatchFn | None = None,
        seed: int = 0,
        sort_key: np.ndarray | None = None,
        batch_multiple: int = 1,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        super().__init__()
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} vs {len(y)}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.augment_fn, self.format_fn = augment_fn, format_fn
        self.shuffle, self.sort_key = shuffle, sort_key
        self.seed, self.first_epoch, self.batch_multiple, self.shard = seed, 0, batch_multiple, shard
        self.epoch = 0  # The epoch `batches` belong to.
        self.batches = self._batches(0)

    def _batches(self, epoch: int) -> list[np.ndarray]:
        """The rows of each batch of `epoch`; the shuffle depends only on the seed and the epoch."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.sort_key is None:
            order = rng.permutation(len(self.x)) if self.shuffle else np.arange(len(self.x))
        else:
            key = self.sort_key.astype(np.float64)
            if self.shuffle:
                key = key + rng.uniform(0, BUCKET_JITTER * (np.ptp(key) + 1), len(key))
            order = np.argsort(key, kind="stable")
        batches = [np.sort(order[i : i + self.batch_size]) for i in range(0, len(order), self.batch_size)]
        if self.sort_key is not None and len(batches) > 1:
            middle = batches[1:-1]
            if self.shuffle:
                middle = [middle[i] for i in rng.permutation(len(middle))]
            # The widest and narrowest batches lead: Keras infers the input signature from the first two
            # batches, and only a width that varies there stays open for the rest.
            batches = [batches[-1], batches[0], *middle]
        # Data-parallel training splits each batch evenly between devices: the rows a split leaves over are
        # skipped (training rows come back in other epochs' shuffles).
        batches = [batch[: len(batch) - len(batch) % self.batch_multiple] for batch in batches]
        return [batch for batch in batches if len(batch)]

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.batches)

    @property
    def num_batches(self) -> int | None:
        """None for a shuffled sequence: Keras then reads it as endless."""
        return None if self.shuffle else len(self)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, batch = divmod(index, len(self))
        epoch += self.first_epoch
        if epoch != self.epoch:
            self.epoch, self.batches = epoch, self._batches(epoch)
        rows = self.batches[batch]
        x, y = self.x[rows].astype(np.float32), self.y[rows]
        if self.augment_fn is not None:
            x, y = self.augment_fn(x, y, np.random.default_rng([self.seed, epoch, batch]))
        if self.format_fn is not None:
            x, y = self.format_fn(x, y)
        index, count = self.shard  # Every process forms the whole batch (so all trim it alike) and feeds its part.
        return (x[index::count], y[index::count]) if count > 1 else (x, y)

    def start_at(self, epoch: int) -> None:
        """Begin at `epoch` (a resumed run sees the batches it would have seen)."""
        self.first_epoch = epoch
