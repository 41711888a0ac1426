"""HTTP API serving the line recognizer: Flask app, Lambda handler, monitoring."""
