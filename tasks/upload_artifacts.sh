#!/usr/bin/env bash
# Upload artifacts to the S3 store (bucket from TEXT_RECOGNIZER_S3_BUCKET, prefix from
# TEXT_RECOGNIZER_S3_PREFIX, AWS credentials and endpoint as boto3 reads them), e.g.
#   tasks/upload_artifacts.sh weights
#   tasks/upload_artifacts.sh run runs/ppocr_tiny/<run>
#   tasks/upload_artifacts.sh dataset iam
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python training/artifact_store.py upload "$@"
