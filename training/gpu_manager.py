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
_held: dict[int, IO[str]] = {}  # Open lock files of this process by GPU: closing one frees its GPU.


def lock_dir() -> Path:
    """Folder of the per-GPU lock files, shared by every process on the machine."""
    return Path(os.environ.get(LOCK_DIR_ENV, Path(tempfile.gettempdir()) / "text_recognizer_gpu_locks"))


def gpu_count() -> int:
    """Number of NVIDIA GPUs that NVML sees: 0 where there is no NVML library or no driver. Any other NVML failure
    (a driver in a bad state, a library that does not match it) is a ValueError: training must not fall back to the
    CPU unnoticed."""
    try:
        import pynvml
    except ImportError:
        return 0
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        if e.value in (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, pynvml.NVML_ERROR_DRIVER_NOT_LOADED):
            return 0
        raise ValueError(f"NVML cannot count the GPUs ({e}); check the NVIDIA driver with nvidia-smi") from e
    try:
        return int(pynvml.nvmlDeviceGetCount())
    finally:
        pynvml.nvmlShutdown()


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
    _held[index] = handle
    return True


def release(index: int) -> None:
    """Free a GPU this process holds."""
    _held.pop(index).close()


def acquire_free_gpus(wanted: int = 1, count: int | None = None, timeout_s: float | None = None) -> list[int]:
    """Block until `wanted` GPUs are free at once, take them and return their indices.

    A process holds none while it waits (it takes all at once or lets go), so jobs that wait for several GPUs
    never block each other.

    Args:
        wanted: how many GPUs.
        count: number of GPUs to choose from; NVML's count when None.
        timeout_s: give up with a ValueError after this many seconds; wait forever when None.
    """
    count = gpu_count() if count is None else count
    if count <= 0:
        raise ValueError("No NVIDIA GPU found to take; train on the CPU without --gpus, or on a machine with GPUs")
    if not 1 <= wanted <= count:
        raise ValueError(f"Cannot take {wanted} GPUs: this machine has {count}")
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        taken: list[int] = []
        for index in range(count):
            if len(taken) < wanted and try_acquire(index):
                taken.append(index)
        if len(taken) == wanted:
            logger.info("Using GPU %s", ", ".join(map(str, taken)))
            return taken
        for index in taken:
            release(index)
        if deadline is not None and time.monotonic() > deadline:
            raise ValueError(f"{wanted} of the {count} GPUs were never free at once within {timeout_s} s")
        time.sleep(POLL_SECONDS)
