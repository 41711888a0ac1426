#!/usr/bin/env bash
# Train the shipped character model on synthetic handwriting characters in a run directory under runs/, and stage
# the group's best run into text_recognizer/weights.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/run_experiment.py "$@" "$(cat training/experiments/character.json)"
.venv/bin/python training/update_model_with_best_experiment.py character
