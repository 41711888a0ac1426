#!/usr/bin/env bash
# Deploy the API to AWS Lambda as a container image (needs Docker, AWS credentials and the Serverless Framework:
# `npm install -g serverless`). The image is built from api/Dockerfile; the endpoints are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/../api"
for tool in docker serverless; do
  command -v "$tool" >/dev/null || { echo "$tool is required to deploy" >&2; exit 1; }
done
../.venv/bin/python - <<'PY'
import boto3
identity = boto3.client("sts").get_caller_identity()
print(f"Deploying as {identity['Arn']}")
PY
serverless deploy --stage "${STAGE:-prod}"
serverless info --stage "${STAGE:-prod}"
