#!/usr/bin/env bash
# Train the accurate line model the way it was shipped: PP-OCRv6 small's published weights fine-tuned twice on the
# real handwriting collections mixed with synthetic lines (as many synthetic lines as real ones, then half as many
# again), then one more epoch from the mean of the two models' weights; stage that last run into
# text_recognizer/weights. Each step is a run under runs/; a stopped one continues with --resume, after which run
# the steps that follow it. Extra arguments go to run_experiment.py (e.g. --gpu -1).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
missing=$("$PYTHON" -c 'import json; from text_recognizer.datasets.real_handwriting import is_available
names = json.load(open("training/experiments/line_ppocr_small.json"))["dataset_args"]["collections"]
print(" ".join(name for name in names if not is_available(name)))')
if [[ -n "$missing" ]]; then
  echo "The accurate model trains on real handwriting; import these collections first: $missing" >&2
  echo "  $PYTHON -m text_recognizer.datasets.real_handwriting NAME --import FOLDER" >&2
  exit 2
fi
echo "About 3 hours on 2 CPU cores: two runs of 4 epochs, then one of 1 epoch (validation CER printed after each)."
best() { "$PYTHON" training/update_model_with_best_experiment.py --print "$1"; }
"$PYTHON" training/run_experiment.py --nowandb --init-from pretrained "$@" "$(cat training/experiments/line_ppocr_small.json)"
"$PYTHON" training/run_experiment.py --nowandb --init-from pretrained "$@" "$(cat training/experiments/line_ppocr_small_s15.json)"
"$PYTHON" training/run_experiment.py --nowandb --init-from "$(best ppocr_small_hooker)" \
  --init-from "$(best ppocr_small_hooker_s15)" "$@" "$(cat training/experiments/line_ppocr_small_soup.json)"
"$PYTHON" training/update_model_with_best_experiment.py ppocr_small_soup
