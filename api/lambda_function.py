"""AWS Lambda entry point: API Gateway (REST v1, HTTP v2) and Function URL events, served by the same Flask app."""

from __future__ import annotations

from apig_wsgi import make_lambda_handler

from api.app import app

handler = make_lambda_handler(app, binary_support=True)
