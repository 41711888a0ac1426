import base64
import io
import json
import logging
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from api.app import create_app, recognizers
from api.monitoring import MIN_SAMPLES, SHARED_DIR_ENV, WINDOW, WINDOW_FILE, DriftMonitor
from api.tests.conftest import serve
from evaluation.benchmark_api import free_port, metrics_text, request, start_server

SUPPORT = sorted(
    (Path(__file__).resolve().parents[2] / "text_recognizer" / "tests" / "support" / "lines").glob("*.png")
)


@pytest.fixture
def webhook():
    """A loopback endpoint that records the JSON it is POSTed."""
    received: list[dict] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alert", received, arrived
    server.shutdown()


def payload(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return json.dumps({"image": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()}).encode()


def test_inverted_images_raise_a_drift_alert(webhook, caplog):
    url, received, arrived = webhook
    monitor = DriftMonitor.from_file(webhook_url=url)
    server = serve(create_app(recognizers, monitor))
    api = next(server)
    lines = [np.asarray(Image.open(path).convert("L")) for path in SUPPORT]
    headers = {"Content-Type": "application/json"}
    with caplog.at_level(logging.INFO, logger="api.monitoring"):
        for i in range(MIN_SAMPLES + 5):  # Photos like the reference: no alert.
            assert api.call("POST", "/v1/predict", payload(lines[i % len(lines)]), headers)[0] == 200
        for _ in range(MIN_SAMPLES):  # Pages: metrics, but the line reference does not judge them.
            assert api.call("POST", "/v1/predict?mode=page", payload(255 - lines[0]), headers)[0] == 200
        assert not monitor.alerting and "DRIFT ALERT" not in caplog.text
        assert "METRIC confidence=" in caplog.text
        for i in range(2 * MIN_SAMPLES):  # White ink on black: the mean intensity shifts.
            assert api.call("POST", "/v1/predict", payload(255 - lines[i % len(lines)]), headers)[0] == 200
    assert "mean_intensity" in monitor.alerting
    assert "DRIFT ALERT mean_intensity" in caplog.text
    assert arrived.wait(5) and "mean_intensity" in received[0]["text"]
    metrics = api.call("GET", "/metrics")[1]["raw"]
    assert 'api_drift_alert{feature="mean_intensity"} 1.0' in metrics
    server.close()


def test_reference_must_cover_every_feature():
    with pytest.raises(ValueError, match="lacks \\['confidence'\\]"):
        DriftMonitor({"mean_intensity": {"mean": 1, "std": 1}, "aspect_ratio": {"mean": 1, "std": 1}})


def metric(text: str, name: str) -> float:
    """The value of one sample line of a Prometheus page (0 where it is absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_two_gunicorn_workers_count_every_request_and_share_one_drift_window(tmp_path, monkeypatch):
    port, log, shared = free_port(), tmp_path / "access.log", tmp_path / "shared"
    monkeypatch.setenv(SHARED_DIR_ENV, str(shared))
    server, _ = start_server(port, 2, ("--access-logfile", str(log), "--access-logformat", "%(p)s %(U)s"))
    try:
        lines = [np.asarray(Image.open(path).convert("L")) for path in SUPPORT]
        bodies = [payload(lines[i % len(lines)]) for i in range(30)] + [payload(255 - lines[0])] * (2 * MIN_SAMPLES)
        assert len(bodies) <= WINDOW
        with ThreadPoolExecutor(4) as pool:  # Several at once, so that both workers answer.
            statuses = list(pool.map(lambda body: request(port, "POST", "/v1/predict", body)[0], bodies))
        assert statuses == [200] * len(bodies)
        answered_by = {line.split()[0] for line in log.read_text().splitlines() if line.endswith("/v1/predict")}
        assert len(answered_by) == 2
        for _ in range(4):  # Whichever worker answers /metrics counts every request.
            text = metrics_text(port)
            assert metric(text, 'api_requests_total{status="200"}') == len(bodies)
            assert metric(text, "api_request_latency_seconds_count") == len(bodies)
            assert metric(text, 'api_drift_alert{feature="mean_intensity"}') == 1.0
        with sqlite3.connect(shared / WINDOW_FILE) as window:  # One window holds the lines both workers read.
            assert window.execute("SELECT COUNT(*) FROM window").fetchone()[0] == len(bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)
