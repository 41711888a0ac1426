"""Handwriting text recognition: datasets, networks, models and predictors."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out of the logs.

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"  # The shipped artifacts.
