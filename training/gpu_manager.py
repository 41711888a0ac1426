"""Exclusive GPU allocation across processes with no server: one advisory file lock per GPU.

A process that takes a GPU keeps its lock until it exits; the kernel releases the lock when the process dies,
so a crashed or killed job frees its GPU at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import IO

LOCK_DIR_ENV = "TEXT_RECOGNIZER_GPU_LOCK_DIR"
POLL_SECONDS = 5.0

logger = logging.getLogger(__name__)
_held: list[IO[str]] = []  # Open lock files of this process: closing one would free its GPU.


def lock_dir() -> Path:
    """Folder of the per-GPU lock files, shared by every process on the machine."""
    return Path(os.environ.get(LOCK_DIR_ENV, Path(tempfile.gettempdir()) / "text_recognizer_gpu_locks"))


def gpu_count() -> int:
    """Number of NVIDIA GPUs that NVML sees (0 without a driver)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # NVML missing or no driver: no GPUs.
        return 0


def try_acquire(index: int) -> bool:
    """Take GPU `index` for the rest of this process's life if no other process holds it."""
    lock_dir().mkdir(parents=True, exist_ok=True)
    handle = open(lock_dir() / f"gpu{index}.lock", "a+")  # noqa: SIM115 - kept open to hold the lock.
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held.append(handle)
    return True


def acquire_free_gpu(count: int | None = None, timeout_s: float | None = None) -> int:
    """Block until a GPU is free, take it and return its index.

    Args:
        count: number of GPUs to choose from; NVML's count when None.
        timeout_s: give up with a ValueError after this many seconds; wait forever when None.

    Returns:
        The index of the GPU now held by this process.
    """
    count = gpu_count() if count is None else count
    if count <= 0:
        raise ValueError("No NVIDIA GPU found for --gpu -1; pass --gpu 0 or run on a machine with GPUs")
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        for index in range(count):
            if try_acquire(index):
                logger.info("Using GPU %d", index)
                return index
        if deadline is not None and time.monotonic() > deadline:
            raise ValueError(f"All {count} GPUs stayed busy for {timeout_s} s")
        time.sleep(POLL_SECONDS)
