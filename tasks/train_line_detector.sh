#!/usr/bin/env bash
# Train the shipped line detector in a run directory under runs/ and stage the group's best run (weights, JSON,
# ONNX) into text_recognizer/weights: a small U-Net on synthetic paragraphs and, where they are at the data root,
# the pages of the real collections (training/experiments/line_detector.json). Extra arguments go to run_experiment.py (e.g. --gpu -1).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
"$PYTHON" training/run_experiment.py "$@" "$(cat training/experiments/line_detector.json)"
"$PYTHON" training/update_model_with_best_experiment.py line_detector
