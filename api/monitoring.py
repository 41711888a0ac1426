"""Prediction monitoring: Prometheus metrics, METRIC log lines for log-based metrics, and a drift monitor that
compares a rolling window of inputs with reference statistics and alerts when they shift.

Under gunicorn (`api/gunicorn.conf.py`), every worker writes its metrics and its requests' observations into one
folder, `PROMETHEUS_MULTIPROC_DIR`: `/metrics` then counts the requests of all workers, and the drift window holds
the last requests whichever worker answered them."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import urllib.request
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess, registry

REFERENCE_PATH = Path(__file__).resolve().parent / "drift_reference.json"
WINDOW = 100  # Most recent requests the drift monitor compares with the reference.
MIN_SAMPLES = 20  # No drift verdict on fewer requests.
DRIFT_THRESHOLD = 1.0  # Alert when a window mean is this many reference standard deviations off.
FEATURES = ("mean_intensity", "aspect_ratio", "confidence")
SHARED_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # Where workers share metrics and the drift window (gunicorn sets it).
WINDOW_FILE = "drift_window.sqlite"

REQUESTS = Counter("api_requests", "Prediction requests by HTTP status", ["status"])
LATENCY = Histogram("api_request_latency_seconds", "Time to answer a prediction request")
CONFIDENCE = Histogram("api_prediction_confidence", "Confidence of answers", buckets=[i / 10 for i in range(1, 11)])
INTENSITY = Histogram("api_image_mean_intensity", "Mean gray level of input images", buckets=range(0, 256, 16))
ASPECT = Histogram("api_image_aspect_ratio", "Width / height of input images", buckets=(1, 2, 4, 8, 16, 32, 64))
# The latest verdict stands for all workers: each computes it over the window they share.
DRIFT = Gauge(
    "api_drift_alert",
    "1 while the feature's rolling mean has drifted from the reference",
    ["feature"],
    multiprocess_mode="mostrecent",
)
DRIFT_SCORE = Gauge(
    "api_drift_score",
    "Rolling-mean shift in reference standard deviations",
    ["feature"],
    multiprocess_mode="mostrecent",
)

logger = logging.getLogger("api.monitoring")


@dataclass(frozen=True)
class Observation:
    """What the monitor records about one prediction."""

    mean_intensity: float
    aspect_ratio: float
    confidence: float
    latency_ms: float


OBSERVED = tuple(Observation.__dataclass_fields__)  # The drift window's columns.


def observe(gray: np.ndarray, confidence: float, latency_ms: float) -> Observation:
    """Describe a request's grayscale image and answer, and record it in the histograms and a METRIC log line."""
    height, width = gray.shape
    observation = Observation(float(gray.mean()), width / max(1, height), confidence, latency_ms)
    CONFIDENCE.observe(confidence)
    INTENSITY.observe(observation.mean_intensity)
    ASPECT.observe(observation.aspect_ratio)
    logger.info(
        "METRIC confidence=%.4f mean_intensity=%.1f aspect_ratio=%.2f latency_ms=%.2f",
        confidence,
        observation.mean_intensity,
        observation.aspect_ratio,
        latency_ms,
    )
    return observation


def metrics_registry() -> registry.CollectorRegistry:
    """The metrics to serve: those of every worker where workers share a folder, else this process's."""
    if SHARED_DIR_ENV not in os.environ:
        return registry.REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


class DriftMonitor:
    """Keeps the last WINDOW observations and flags features whose mean left the reference band.

    The window and the features alerting live in SQLite: in memory, or in a file that several worker processes
    share (each addition is one transaction, so workers see one window and alert once).

    Args:
        reference: per feature, {"mean": ..., "std": ...} of inputs like those the model was trained for.
        webhook_url: optional URL that receives a JSON POST when an alert starts.
        window_path: the SQLite file of a window shared between processes (None: this process's own).
    """

    def __init__(
        self, reference: dict[str, dict[str, float]], webhook_url: str | None = None, window_path: Path | None = None
    ) -> None:
        missing = set(FEATURES) - set(reference)
        if missing:
            raise ValueError(f"Drift reference lacks {sorted(missing)}")
        self.reference, self.webhook_url = reference, webhook_url
        self.lock = threading.Lock()
        target = str(window_path) if window_path else ":memory:"
        self.db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False)
        columns = ", ".join(f"{name} REAL" for name in OBSERVED)
        with self.lock:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS window (id INTEGER PRIMARY KEY AUTOINCREMENT, {columns})")
            self.db.execute("CREATE TABLE IF NOT EXISTS alerting (feature TEXT PRIMARY KEY)")

    @classmethod
    def from_file(cls, path: Path = REFERENCE_PATH, webhook_url: str | None = None) -> DriftMonitor:
        """Load the reference statistics written by `python -m api.drift_reference`; share the window with the other
        workers where they share a folder."""
        shared = os.environ.get(SHARED_DIR_ENV)
        window_path = Path(shared) / WINDOW_FILE if shared else None
        return cls(json.loads(path.read_text())["features"], webhook_url, window_path)

    @property
    def alerting(self) -> set[str]:
        """The features drifting now."""
        with self.lock:
            return {feature for (feature,) in self.db.execute("SELECT feature FROM alerting")}

    def add(self, observation: Observation) -> list[str]:
        """Record an observation; return the features that started drifting with it."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")  # One writer at a time, across processes.
            try:
                self.db.execute(
                    f"INSERT INTO window ({', '.join(OBSERVED)}) VALUES ({', '.join('?' * len(OBSERVED))})",
                    astuple(observation),
                )
                self.db.execute("DELETE FROM window WHERE id <= (SELECT MAX(id) FROM window) - ?", (WINDOW,))
                rows = self.db.execute(f"SELECT {', '.join(FEATURES)} FROM window").fetchall()
                alerting = {feature for (feature,) in self.db.execute("SELECT feature FROM alerting")}
                started = self._judge(np.array(rows), alerting) if len(rows) >= MIN_SAMPLES else []
                self.db.execute("DELETE FROM alerting")
                self.db.executemany("INSERT INTO alerting VALUES (?)", [(feature,) for feature in alerting])
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return started

    def _judge(self, window: np.ndarray, alerting: set[str]) -> list[str]:
        """Score each feature's window mean, set the gauges, update `alerting` in place; the features that start."""
        started = []
        for feature, values in zip(FEATURES, window.T, strict=True):
            ref = self.reference[feature]
            mean = float(values.mean())
            score = abs(mean - ref["mean"]) / max(ref["std"], 1e-6)
            DRIFT_SCORE.labels(feature).set(score)
            drifting = score > DRIFT_THRESHOLD
            DRIFT.labels(feature).set(int(drifting))
            if drifting and feature not in alerting:
                started.append(feature)
                self._alert(feature, mean, score, len(window))
            if drifting:
                alerting.add(feature)
            else:
                alerting.discard(feature)
        return started

    def _alert(self, feature: str, mean: float, score: float, requests: int) -> None:
        ref = self.reference[feature]
        message = (
            f"DRIFT ALERT {feature}: rolling mean {mean:.3f} over {requests} requests vs reference "
            f"{ref['mean']:.3f} ± {ref['std']:.3f} ({score:.1f} std)"
        )
        logger.warning(message)
        if self.webhook_url:
            threading.Thread(target=_post_json, args=(self.webhook_url, {"text": message}), daemon=True).start()


def _post_json(url: str, payload: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5):
            pass
    except OSError as e:
        logger.warning("Drift webhook %s failed: %s", url, e)
