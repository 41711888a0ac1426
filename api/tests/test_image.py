import json
import shutil
import subprocess
import sys
from pathlib import Path

from text_recognizer.line_predictor import LinePredictor

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "api" / "Dockerfile"


def copied_sources() -> list[str]:
    """The repository paths the Dockerfile's COPY instructions put into the image."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    sources = []
    for line in text.splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return sources


def test_requirements_pin_the_locked_versions():
    locked = json.loads((ROOT / "Pipfile.lock").read_text())["default"]
    for line in (ROOT / "api" / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            assert locked[name]["version"] == f"=={version}", name
            assert name not in {"tensorflow", "tensorflow-cpu", "keras"}


def test_image_files_serve_a_prediction_without_tensorflow(tmp_path):
    for source in copied_sources():
        target = tmp_path / source
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / source).is_dir() else shutil.copy)(ROOT / source, target)
    line = ROOT / "text_recognizer" / "tests" / "support" / "lines" / "Meeting at 10 today.png"
    code = (
        "import json, sys, base64; from api.lambda_function import handler; import text_recognizer; "
        f"body = json.dumps({{'image': base64.b64encode(open({str(line)!r}, 'rb').read()).decode()}}); "
        "event = {'version': '2.0', 'rawPath': '/v1/predict', 'rawQueryString': '', 'headers': "
        "{'content-type': 'application/json', 'host': 'x'}, 'requestContext': {'http': {'method': 'POST', "
        "'path': '/v1/predict', 'protocol': 'HTTP/1.1', 'sourceIp': '203.0.113.7'}}, 'body': body, "
        "'isBase64Encoded': False}; "
        "print(json.loads(handler(event, None)['body'])['pred']); print(text_recognizer.__file__); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pred, package, heavy = result.stdout.splitlines()[-3:]
    assert pred == LinePredictor().predict(line)[0] and package.startswith(str(tmp_path)) and heavy == "[]"
