#!/usr/bin/env bash
# GPU training: add JAX's CUDA 12 build to .venv, at the jax version Pipfile.lock pins, then train with
# KERAS_BACKEND=jax (the locked TensorFlow is the CPU build, kept for ONNX export and serving).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(.venv/bin/python -c 'import jax; print(jax.__version__)')
.venv/bin/python -m pip install --quiet "jax[cuda12]==$version"
KERAS_BACKEND=jax .venv/bin/python -c 'import jax; print("JAX devices:", jax.devices())'
