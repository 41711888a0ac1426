#!/usr/bin/env bash
# Train the shipped line detector and save it (weights, JSON, ONNX) to text_recognizer/weights: a small U-Net on
# synthetic paragraphs and, where they are at the data root, the pages of the real collections
# (training/experiments/line_detector.json). Extra arguments go to run_experiment.py (e.g. --gpu -1).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
"$PYTHON" training/run_experiment.py --save "$@" "$(cat training/experiments/line_detector.json)"
