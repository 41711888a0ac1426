"""Prediction monitoring: Prometheus metrics, METRIC log lines for log-based metrics, and a drift monitor that
compares a rolling window of inputs with reference statistics and alerts when they shift."""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prometheus_client import Counter, Gauge, Histogram

REFERENCE_PATH = Path(__file__).resolve().parent / "drift_reference.json"
WINDOW = 100  # Most recent requests the drift monitor compares with the reference.
MIN_SAMPLES = 20  # No drift verdict on fewer requests.
DRIFT_THRESHOLD = 1.0  # Alert when a window mean is this many reference standard deviations off.
FEATURES = ("mean_intensity", "aspect_ratio", "confidence")

REQUESTS = Counter("api_requests", "Prediction requests by HTTP status", ["status"])
LATENCY = Histogram("api_request_latency_seconds", "Time to answer a prediction request")
CONFIDENCE = Histogram("api_prediction_confidence", "Confidence of answers", buckets=[i / 10 for i in range(1, 11)])
INTENSITY = Histogram("api_image_mean_intensity", "Mean gray level of input images", buckets=range(0, 256, 16))
ASPECT = Histogram("api_image_aspect_ratio", "Width / height of input images", buckets=(1, 2, 4, 8, 16, 32, 64))
DRIFT = Gauge("api_drift_alert", "1 while the feature's rolling mean has drifted from the reference", ["feature"])
DRIFT_SCORE = Gauge("api_drift_score", "Rolling-mean shift in reference standard deviations", ["feature"])

logger = logging.getLogger("api.monitoring")


@dataclass(frozen=True)
class Observation:
    """What the monitor records about one prediction."""

    mean_intensity: float
    aspect_ratio: float
    confidence: float
    latency_ms: float


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


class DriftMonitor:
    """Keeps the last WINDOW observations and flags features whose mean left the reference band.

    Args:
        reference: per feature, {"mean": ..., "std": ...} of inputs like those the model was trained for.
        webhook_url: optional URL that receives a JSON POST when an alert starts.
    """

    def __init__(self, reference: dict[str, dict[str, float]], webhook_url: str | None = None) -> None:
        missing = set(FEATURES) - set(reference)
        if missing:
            raise ValueError(f"Drift reference lacks {sorted(missing)}")
        self.reference, self.webhook_url = reference, webhook_url
        self.window: deque[Observation] = deque(maxlen=WINDOW)
        self.alerting: set[str] = set()
        self.lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path = REFERENCE_PATH, webhook_url: str | None = None) -> DriftMonitor:
        """Load the reference statistics written by `python -m api.drift_reference`."""
        return cls(json.loads(path.read_text())["features"], webhook_url)

    def add(self, observation: Observation) -> list[str]:
        """Record an observation; return the features that started drifting with it."""
        with self.lock:
            self.window.append(observation)
            if len(self.window) < MIN_SAMPLES:
                return []
            started = []
            for feature in FEATURES:
                ref = self.reference[feature]
                mean = float(np.mean([getattr(o, feature) for o in self.window]))
                score = abs(mean - ref["mean"]) / max(ref["std"], 1e-6)
                DRIFT_SCORE.labels(feature).set(score)
                drifting = score > DRIFT_THRESHOLD
                DRIFT.labels(feature).set(int(drifting))
                if drifting and feature not in self.alerting:
                    started.append(feature)
                    self._alert(feature, mean, score)
                if drifting:
                    self.alerting.add(feature)
                else:
                    self.alerting.discard(feature)
            return started

    def _alert(self, feature: str, mean: float, score: float) -> None:
        ref = self.reference[feature]
        message = (
            f"DRIFT ALERT {feature}: rolling mean {mean:.3f} over {len(self.window)} requests vs reference "
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
