"""Per-epoch GPU utilisation and memory, sampled through NVML while an epoch runs; nothing where there is no GPU."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import keras

SAMPLE_SECONDS = 1.0

logger = logging.getLogger(__name__)


def visible_gpu_handles() -> list[Any]:
    """NVML handles of the GPUs this process may use (`CUDA_VISIBLE_DEVICES` when set); [] without NVML or GPUs."""
    try:
        import pynvml

        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
    except Exception:  # No driver or no NVML: no GPUs to watch.
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    indices = range(count) if visible is None else [int(i) for i in visible.split(",") if i.strip().isdigit()]
    return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in indices if i < count]


class GpuUtilSampler(keras.callbacks.Callback):
    """Adds `gpu_util` (mean %, over the epoch and the GPUs) and `gpu_mem_mib` (peak used) to each epoch's logs."""

    def __init__(self, handles: list[Any] | None = None) -> None:
        super().__init__()
        self.handles = visible_gpu_handles() if handles is None else handles
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def _sample(self) -> None:
        import pynvml

        while True:  # A first sample at once, so that even a short epoch has one.
            util = [pynvml.nvmlDeviceGetUtilizationRates(h).gpu for h in self.handles]
            memory = [pynvml.nvmlDeviceGetMemoryInfo(h).used / 2**20 for h in self.handles]
            self.samples.append((sum(util) / len(util), max(memory)))
            if self.stop.wait(SAMPLE_SECONDS):
                return

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Start sampling (when there are GPUs)."""
        if self.handles:
            self.samples, self.stop = [], threading.Event()
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Stop sampling and log the epoch's figures."""
        if self.thread is None:
            return
        self.stop.set()
        self.thread.join()
        self.thread = None
        if self.samples and logs is not None:
            logs["gpu_util"] = sum(s[0] for s in self.samples) / len(self.samples)
            logs["gpu_mem_mib"] = max(s[1] for s in self.samples)
            logger.info("epoch %d: GPU %.0f%% busy, %.0f MiB", epoch + 1, logs["gpu_util"], logs["gpu_mem_mib"])
