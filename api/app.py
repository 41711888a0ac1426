"""Flask API: `GET /` health, `POST /v1/predict` (image) or `GET /v1/predict?image_url=...` (add `mode=page` to
read a page of several lines, `model=accurate` to read with the accurate line model), `/metrics`, web page.

Run with `python api/app.py` (port from $PORT, default 8000) or, in production,
`gunicorn -c api/gunicorn.conf.py --workers 2 --bind 0.0.0.0:8000 --access-logfile - api.app:app`.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
from flask import Flask, Response, jsonify, request, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from api.monitoring import LATENCY, REQUESTS, DriftMonitor, metrics_registry, observe
from api.payload import ApiError, image_from_request
from text_recognizer.line_predictor import LINE_MODELS, LinePredictor
from text_recognizer.paragraph_text_recognizer import ParagraphTextRecognizer
from text_recognizer.preprocessing import load_image

MODES = ("line", "page")
MAX_BODY_BYTES = 15 * 1024 * 1024  # A 10 MB image in base64, with room for the JSON around it.
STATIC_DIR = Path(__file__).resolve().parent / "static"

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logger = logging.getLogger("api")


def create_app(recognizers: dict[str, ParagraphTextRecognizer], monitor: DriftMonitor) -> Flask:
    """The Flask application around loaded page recognizers by line-model name (the first is the default; each
    holds its line predictor) and one drift monitor, which watches the default model's lines."""
    default = next(iter(recognizers))
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.get("/")
    def health() -> Response:
        predictor = recognizers[default].line_predictor
        models = {name: r.line_predictor.name for name, r in recognizers.items()}
        return jsonify(status="ok", model=predictor.name, backend=predictor.backend, models=models)

    @app.route("/v1/predict", methods=["GET", "POST"])
    def predict() -> Response:
        start = time.perf_counter()
        mode = request.args.get("mode", "line")
        if mode not in MODES:
            raise ApiError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        model = request.args.get("model", default)
        if model not in recognizers:
            raise ApiError(f"model must be one of {', '.join(recognizers)}, got {model!r}")
        image = image_from_request(request)
        recognizer = recognizers[model]
        try:
            gray = load_image(image)
            answer = read_page(recognizer, gray) if mode == "page" else read_line(recognizer.line_predictor, gray)
        except ValueError as e:  # The image decoded but preprocessing cannot use it.
            raise ApiError(str(e), 422) from e
        latency_ms = (time.perf_counter() - start) * 1e3
        LATENCY.observe(latency_ms / 1e3)
        observation = observe(gray, answer["conf"], latency_ms)
        if mode == "line" and model == default:  # The drift reference describes the default model's line images.
            monitor.add(observation)
        return jsonify(answer)

    def read_line(predictor: LinePredictor, gray: np.ndarray) -> dict:
        text, confidence = predictor.predict(gray, upside_down=request.args.get("upside_down") == "1")
        return {"pred": text, "conf": round(confidence, 4)}

    def read_page(recognizer: ParagraphTextRecognizer, gray: np.ndarray) -> dict:
        prediction = recognizer.predict(gray)
        lines = prediction.lines
        return {
            "pred": prediction.text,
            "rotation": prediction.rotation,
            "conf": round(float(np.mean([line.confidence for line in lines])) if lines else 1.0, 4),
            "lines": [{"box": list(line.box), "text": line.text, "conf": round(line.confidence, 4)} for line in lines],
        }

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(metrics_registry()), mimetype=CONTENT_TYPE_LATEST)

    @app.get("/app/")
    @app.get("/app/<path:name>")
    def page(name: str = "index.html") -> Response:
        return send_from_directory(STATIC_DIR, name)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError) -> tuple[Response, int]:
        return jsonify(error=error.message), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response, int]:
        return jsonify(error=f"{error.name}: {error.description}"), error.code or 400

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> tuple[Response, int]:
        logger.exception("Unexpected error")
        return jsonify(error="Internal error; it has been logged"), 500

    @app.after_request
    def count(response: Response) -> Response:
        if request.path == "/v1/predict":
            REQUESTS.labels(str(response.status_code)).inc()
        return response

    return app


# One ONNX Runtime thread per worker: with a worker per core, more threads only contend (1.5x the throughput).
backend, threads = os.environ.get("PREDICTOR_BACKEND", "onnx"), int(os.environ.get("ONNX_THREADS", "1"))
recognizers = {name: ParagraphTextRecognizer(line_model=name, backend=backend, threads=threads) for name in LINE_MODELS}
app = create_app(recognizers, DriftMonitor.from_file(webhook_url=os.environ.get("DRIFT_WEBHOOK_URL")))


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))  # noqa: S104
