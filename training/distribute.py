"""Data-parallel training (`train_args.distribute`) on TensorFlow or JAX, over the GPUs of one machine.

- "none": one device (the default).
- "mirrored": every GPU of this machine, each batch split between them (TensorFlow's MirroredStrategy, or Keras's
  DataParallel on JAX). Without GPUs it uses the CPU devices, which is how the path is tested: set
  TEXT_RECOGNIZER_CPU_DEVICES=2 (TensorFlow) or XLA_FLAGS=--xla_force_host_platform_device_count=2 (JAX).
- "multi_worker" (across machines) is refused with the reason: Keras 3 fails inside `fit` under TensorFlow's
  MultiWorkerMirroredStrategy (keras-team/keras#20585), and on JAX with several processes each process must feed
  its own rows of every batch and predictions must be gathered from all of them, which this package does not do.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import keras

DISTRIBUTE_CHOICES = ("none", "mirrored", "multi_worker")
MULTI_WORKER_UNSUPPORTED = (
    "train_args.distribute 'multi_worker' (training across machines) is not supported: Keras 3 cannot fit under "
    "TensorFlow's MultiWorkerMirroredStrategy (keras-team/keras#20585), and multi-process JAX needs per-process "
    "batches this package does not make yet. Use 'mirrored' for the GPUs of one machine."
)
CPU_DEVICES_ENV = "TEXT_RECOGNIZER_CPU_DEVICES"


def distribution_scope(kind: str) -> contextlib.AbstractContextManager:
    """A context in which models built, compiled and fitted train data-parallel as `kind` says."""
    if kind not in DISTRIBUTE_CHOICES:
        raise ValueError(f"train_args.distribute must be one of {', '.join(DISTRIBUTE_CHOICES)}, got {kind!r}")
    if kind == "none":
        return contextlib.nullcontext()
    if kind == "multi_worker":
        raise ValueError(MULTI_WORKER_UNSUPPORTED)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_strategy().scope()
    if backend == "jax":
        return _jax_distribution().scope()
    raise ValueError(f"train_args.distribute runs on the tensorflow or jax backend, not {backend}")


def _tensorflow_strategy() -> Any:
    import tensorflow as tf

    cpus = int(os.environ.get(CPU_DEVICES_ENV, "1"))
    if cpus > 1:  # Must come before TensorFlow starts its devices.
        physical = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(physical, [tf.config.LogicalDeviceConfiguration()] * cpus)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
    print(f"Training data-parallel on {strategy.num_replicas_in_sync} devices ({type(strategy).__name__})")
    return strategy


def _jax_distribution() -> Any:
    devices = keras.distribution.list_devices()  # The GPUs, else the CPU devices.
    distribution = keras.distribution.DataParallel(devices=devices)
    print(f"Training data-parallel on {len(devices)} devices (DataParallel)")
    return distribution
