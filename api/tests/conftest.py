"""A real HTTP server around the Flask app on 127.0.0.1, and helpers to call it."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from werkzeug.serving import make_server


@dataclass
class Server:
    """Where a served app listens, with a plain HTTP client for it."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://{self.host}:{self.port}"

    def call(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
        """Send one request; return the status and the decoded JSON answer."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode(errors="replace")}


def serve(app: Flask) -> Iterator[Server]:
    """Run `app` in a threaded werkzeug server on a free loopback port until the generator is closed."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server("127.0.0.1", server.server_port)
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def api_server() -> Iterator[Server]:
    """The production app module (its predictor loaded at import), served for the whole session."""
    from api.app import app

    yield from serve(app)
