#!/usr/bin/env bash
# Train the default line model the way it was shipped: PP-OCRv6 tiny's published weights fine-tuned on the real
# handwriting collections at the data root mixed with synthetic lines (synthetic lines alone where none are there),
# in a run directory under runs/, then stage the group's best run (weights, JSON, ONNX) into text_recognizer/weights.
# Extra arguments go to run_experiment.py (e.g. --gpu -1).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
EXPERIMENT=training/experiments/line_ppocr_tiny.json
real=$("$PYTHON" -c 'from text_recognizer.datasets.real_handwriting import COLLECTIONS, is_available
print(" ".join(name for name in COLLECTIONS if is_available(name)))')
if [[ -z "$real" ]]; then
  echo "Fine-tuning PP-OCRv6 tiny ($EXPERIMENT) on 20,000 synthetic lines only: no real handwriting at the data root."
  echo "Import a collection first to train as shipped: $PYTHON -m text_recognizer.datasets.real_handwriting NAME --import FOLDER"
else
  echo "Fine-tuning PP-OCRv6 tiny ($EXPERIMENT) on the real handwriting at the data root ($real) mixed with synthetic lines."
fi
echo "About 35 minutes on 2 CPU cores (validation CER printed after each epoch); a stopped run continues with"
echo "  $PYTHON training/run_experiment.py --resume runs/ppocr_tiny/<run>"
"$PYTHON" training/run_experiment.py --nowandb --init-from pretrained "$@" "$(cat "$EXPERIMENT")"
"$PYTHON" training/update_model_with_best_experiment.py ppocr_tiny
