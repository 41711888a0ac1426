#!/usr/bin/env bash
# Recompute the sha256 and size of a dataset's file and rewrite its data/raw/<name>/metadata.toml, e.g.
#   tasks/update_metadata.sh iam                      (the file downloaded into data/downloaded/iam/)
#   tasks/update_metadata.sh iam new.zip --url URL    (a new version at a new address)
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/update_metadata.py "$@"
