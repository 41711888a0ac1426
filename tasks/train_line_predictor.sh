#!/usr/bin/env bash
# Train the shipped line models, each in its run directory under runs/, and stage the best run of each group
# (weights, JSON, ONNX) into text_recognizer/weights: first on synthetic
# handwriting lines (training/experiments/line.json), then, starting from that model, on real handwriting mixed
# with synthetic lines (line_mix.json) when the real collections are at the data root.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
real=$("$PYTHON" -c 'from text_recognizer.datasets.real_handwriting import COLLECTIONS, is_available
print(" ".join(name for name in COLLECTIONS if is_available(name)))')
if [[ -z "$real" ]]; then
  echo "No real handwriting at the data root: training on synthetic lines only (the default model stays the shipped one)."
  echo "Import the collections with: $PYTHON -m text_recognizer.datasets.real_handwriting hooker|copiste --import FOLDER"
else
  echo "Real handwriting at the data root: $real. Training on synthetic lines, then on the mix."
fi
"$PYTHON" training/run_experiment.py "$@" "$(cat training/experiments/line.json)"
"$PYTHON" training/update_model_with_best_experiment.py line
if [[ -n "$real" ]]; then
  "$PYTHON" training/run_experiment.py "$@" \
    --init-from text_recognizer/weights/LineModelCtc_SyntheticLinesDataset_line_cnn_lstm.json \
    "$(cat training/experiments/line_mix.json)"
  "$PYTHON" training/update_model_with_best_experiment.py line_mix
fi
