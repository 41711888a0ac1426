#!/usr/bin/env bash
# List what the API image adds to the Lambda base image: its Python packages (installed from api/requirements.txt
# into a scratch folder, sizes on disk), the project files the Dockerfile copies, and the total.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python -m pip install --quiet --no-cache-dir --target "$scratch/packages" -r api/requirements.txt
echo "Python packages (MiB):"
du -sm "$scratch"/packages/* | sort -rn | grep -v "dist-info" | head -20 | sed "s#$scratch/packages/#  #"
files=$(sed -n '/^COPY/,/[^\\]$/p' api/Dockerfile | tr -d '\\' | tr ' ' '\n' | grep -E '^(text_recognizer|api)/' \
  | grep -v requirements | sort -u)
echo "Project files (KiB):"
du -skc $files | sed 's/^/  /'
echo "Total added: $(du -sm "$scratch/packages" | cut -f1) MiB of packages + $(du -skc $files | tail -1 | cut -f1) KiB of project files"
