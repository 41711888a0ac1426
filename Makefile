# Every entry point; each target sets up .venv (and fonts) itself when needed.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup setup-gpu gpu-check train train-accurate train-detector test lint prediction-tests

$(STAMP): Pipfile.lock pyproject.toml
	tasks/setup.sh
	touch $@

setup: $(STAMP)
	tasks/install_system_packages.sh
	-$(VENV)/bin/python -m text_recognizer.datasets.handwriting_fonts

setup-gpu: setup
	tasks/setup_gpu.sh

gpu-check: setup
	tasks/gpu_check.sh

train: setup
	tasks/train_line_predictor.sh

train-accurate: setup
	tasks/train_accurate_line_predictor.sh

train-detector: setup
	tasks/train_line_detector.sh

test: setup
	tasks/lint.sh
	$(VENV)/bin/python -m pytest -q

lint: setup
	tasks/lint.sh

prediction-tests: setup
	tasks/run_prediction_tests.sh
