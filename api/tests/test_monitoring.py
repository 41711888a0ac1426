import base64
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from api.app import create_app, recognizers
from api.monitoring import MIN_SAMPLES, DriftMonitor
from api.tests.conftest import serve

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
