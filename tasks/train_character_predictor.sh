#!/usr/bin/env bash
# Train the shipped character model on synthetic handwriting characters and save it to text_recognizer/weights.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/run_experiment.py --save "$@" "$(cat training/experiments/character.json)"
