#!/usr/bin/env bash
# Prediction tests: the shipped weights read the support images.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q text_recognizer/tests/test_character_predictor.py text_recognizer/tests/test_line_predictor.py \
  text_recognizer/tests/test_paragraph_text_recognizer.py "$@"
