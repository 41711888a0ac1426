#!/usr/bin/env bash
# Lines per second training the default line model: on the GPU (Keras on JAX, after `make setup-gpu`) where there
# is one, and on the CPU with TensorFlow and with JAX. Extra arguments go to training/gpu_check.py (e.g. --steps 50).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  KERAS_BACKEND=jax "$PYTHON" training/gpu_check.py "$@"
else
  echo "No NVIDIA GPU here: CPU figures only."
fi
CUDA_VISIBLE_DEVICES="" KERAS_BACKEND=tensorflow "$PYTHON" training/gpu_check.py "$@"
CUDA_VISIBLE_DEVICES="" JAX_PLATFORMS=cpu KERAS_BACKEND=jax "$PYTHON" training/gpu_check.py "$@"
