#!/usr/bin/env bash
# Train the shipped line model on synthetic handwriting lines and save it (weights, JSON, ONNX) to text_recognizer/weights.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/run_experiment.py --save "$@" "$(cat training/experiments/line.json)"
