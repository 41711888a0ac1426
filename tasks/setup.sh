#!/usr/bin/env bash
# Create or update .venv from Pipfile.lock (pipenv, Python 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."
PIPENV_VERSION=2026.10.3
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "Python 3.11 is required; set PYTHON=/path/to/python3.11" >&2; exit 1; }
if ! "$PYTHON" -m pipenv --version 2>/dev/null | grep -q "$PIPENV_VERSION"; then
  "$PYTHON" -m pip install --quiet "pipenv==$PIPENV_VERSION"
fi
export PIPENV_VENV_IN_PROJECT=1 PIPENV_NOSPIN=1 PIPENV_YES=1
"$PYTHON" -m pipenv --python "$PYTHON" sync --dev
