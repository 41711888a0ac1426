#!/usr/bin/env bash
# Download artifacts from the S3 store (bucket from TEXT_RECOGNIZER_S3_BUCKET, prefix from
# TEXT_RECOGNIZER_S3_PREFIX, AWS credentials and endpoint as boto3 reads them), e.g.
#   tasks/download_artifacts.sh weights
#   tasks/download_artifacts.sh run ppocr_tiny/<run>
#   tasks/download_artifacts.sh dataset iam
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/artifact_store.py download "$@"
