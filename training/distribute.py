"""Data-parallel training (`train_args.distribute`) on TensorFlow or JAX: over the GPUs of one machine, or across
machines.

- "none": one device (the default).
- "mirrored": every GPU of this machine, each batch split between them (TensorFlow's MirroredStrategy, or Keras's
  DataParallel on JAX). Without GPUs it uses the CPU devices, which is how the path is tested: set
  TEXT_RECOGNIZER_CPU_DEVICES=2 (TensorFlow) or XLA_FLAGS=--xla_force_host_platform_device_count=2 (JAX).
- "multi_worker": every GPU of several machines, on JAX (KERAS_BACKEND=jax). Every machine runs the same command
  with JAX_COORDINATOR_ADDRESS (host:port of process 0), JAX_NUM_PROCESSES and JAX_PROCESS_ID (under Slurm, Open
  MPI or Kubernetes JAX finds the last two itself); on CPUs also JAX_CPU_COLLECTIVES_IMPLEMENTATION=gloo. Each
  process feeds its own rows of every batch. TensorFlow is refused: Keras 3 cannot fit under its
  MultiWorkerMirroredStrategy (keras-team/keras#20585).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

DISTRIBUTE_CHOICES = ("none", "mirrored", "multi_worker")
MULTI_WORKER_ON_TENSORFLOW = (
    "train_args.distribute 'multi_worker' runs on JAX only: Keras 3 cannot fit under TensorFlow's "
    "MultiWorkerMirroredStrategy (keras-team/keras#20585). Set KERAS_BACKEND=jax (make setup-gpu installs JAX's CUDA "
    "build) and JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID on every machine."
)
CPU_DEVICES_ENV = "TEXT_RECOGNIZER_CPU_DEVICES"


def distribution_scope(kind: str) -> contextlib.AbstractContextManager:
    """A context in which models built, compiled and fitted train data-parallel as `kind` says."""
    if kind not in DISTRIBUTE_CHOICES:
        raise ValueError(f"train_args.distribute must be one of {', '.join(DISTRIBUTE_CHOICES)}, got {kind!r}")
    if kind == "none":
        return contextlib.nullcontext()
    import keras  # Only now: the GPUs a run uses are chosen before any framework starts.

    backend = keras.backend.backend()
    if backend == "tensorflow":
        if kind == "multi_worker":
            raise ValueError(MULTI_WORKER_ON_TENSORFLOW)
        return _tensorflow_strategy().scope()
    if backend == "jax":
        return _jax_distribution(kind).scope()
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


def _jax_distribution(kind: str) -> Any:
    import jax
    import keras

    if kind == "multi_worker":
        count, index = os.environ.get("JAX_NUM_PROCESSES"), os.environ.get("JAX_PROCESS_ID")
        jax.distributed.initialize(
            num_processes=None if count is None else int(count), process_id=None if index is None else int(index)
        )
    devices = keras.distribution.list_devices()  # Every process's GPUs, else their CPU devices.
    # Each process feeds its own rows of every batch (see `text_recognizer.models.base.process_shard`).
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    processes = f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""
    print(f"Training data-parallel on {len(devices)} devices{processes} (DataParallel)")
    return distribution
