import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from text_recognizer.line_predictor import LinePredictor
from text_recognizer.paragraph_text_recognizer import ParagraphTextRecognizer
from text_recognizer.tests.sent_images import exif_rotated_jpeg, sixteen_bit_tiff, transparent_png, upright_jpeg

SUPPORT = Path(__file__).resolve().parents[2] / "text_recognizer" / "tests" / "support" / "lines"
LINE = SUPPORT / "Paris, London and Laos.png"
JSON = {"Content-Type": "application/json"}
predictor = LinePredictor()  # The API must answer exactly what the predictor answers.


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, dict]:
    boundary = "----text-recognizer-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def post_json(server, payload) -> tuple[int, dict]:
    return server.call("POST", "/v1/predict", json.dumps(payload).encode(), JSON)


def test_health(api_server):
    status, answer = api_server.call("GET", "/")
    assert status == 200 and answer["status"] == "ok" and answer["backend"] == "onnx"


def test_predicts_data_url_plain_base64_upload_style_and_multipart(api_server):
    data = LINE.read_bytes()
    expected = predictor.predict(LINE)[0]
    for payload in (
        {"image": data_url(data)},
        {"image": base64.b64encode(data).decode()},
        {"filename": LINE.name, "filetype": "image/png", "data": base64.b64encode(data).decode()},
    ):
        status, answer = post_json(api_server, payload)
        assert status == 200 and answer["pred"] == expected and 0.5 < answer["conf"] <= 1
    body, headers = multipart("file", LINE.name, data)
    assert api_server.call("POST", "/v1/predict", body, headers) == (
        200,
        post_json(api_server, {"image": data_url(data)})[1],
    )


def test_predicts_image_url_when_private_addresses_are_allowed(api_server, file_server, monkeypatch):
    file_server.files["/line.png"] = LINE.read_bytes()
    monkeypatch.setenv("API_ALLOW_PRIVATE_URLS", "1")
    status, answer = api_server.call("GET", f"/v1/predict?image_url={file_server.url}/line.png")
    assert status == 200 and answer["pred"] == predictor.predict(LINE)[0]


def bomb_png() -> bytes:
    return png_bytes(Image.new("L", (7500, 6000), 255))  # 45 MP, a few kB compressed.


TRUNCATED = LINE.read_bytes()[:300]
NOT_IMAGE = b"hello, I am text"
BAD_INPUTS = [
    # (name, method, path, body, headers, status, error fragment)
    ("non-json body", "POST", "/v1/predict", b"not json", JSON, 400, "must be a JSON object"),
    ("json array", "POST", "/v1/predict", b"[]", JSON, 400, "must be a JSON object"),
    ("json string", "POST", "/v1/predict", b'"x"', JSON, 400, "must be a JSON object"),
    ("json null", "POST", "/v1/predict", b"null", JSON, 400, "must be a JSON object"),
    ("deeply nested json", "POST", "/v1/predict", b"[" * 100_000, JSON, 400, "must be a JSON object"),
    ("empty json object", "POST", "/v1/predict", b"{}", JSON, 400, 'field "image"'),
    ("empty image", "POST", "/v1/predict", b'{"image": ""}', JSON, 400, 'field "image"'),
    ("numeric image", "POST", "/v1/predict", b'{"image": 123}', JSON, 400, 'field "image"'),
    ("null image", "POST", "/v1/predict", b'{"image": null}', JSON, 400, 'field "image"'),
    ("list image", "POST", "/v1/predict", b'{"image": ["a"]}', JSON, 400, 'field "image"'),
    ("data url not base64", "POST", "/v1/predict", b'{"image": "data:image/png,abc"}', JSON, 400, "base64-encoded"),
    (
        "bad base64 chars",
        "POST",
        "/v1/predict",
        b'{"image": "data:image/png;base64,@@@"}',
        JSON,
        400,
        "not valid base64",
    ),
    ("bad base64 padding", "POST", "/v1/predict", b'{"image": "abc"}', JSON, 400, "not valid base64"),
    ("empty data url", "POST", "/v1/predict", b'{"image": "data:image/png;base64,"}', JSON, 400, "Image is empty"),
    (
        "text as image",
        "POST",
        "/v1/predict",
        json.dumps({"image": data_url(NOT_IMAGE)}).encode(),
        JSON,
        400,
        "Cannot read",
    ),
    (
        "truncated png",
        "POST",
        "/v1/predict",
        json.dumps({"image": data_url(TRUNCATED)}).encode(),
        JSON,
        400,
        "Cannot read",
    ),
    (
        "png signature only",
        "POST",
        "/v1/predict",
        json.dumps({"image": data_url(b"\x89PNG\r\n\x1a\n")}).encode(),
        JSON,
        400,
        "Cannot read",
    ),
    (
        "decompression bomb",
        "POST",
        "/v1/predict",
        json.dumps({"image": data_url(bomb_png())}).encode(),
        JSON,
        400,
        "exceeds",
    ),
    (
        "upload-style bad data",
        "POST",
        "/v1/predict",
        b'{"filename": "a.png", "filetype": "image/png", "data": "!!"}',
        JSON,
        400,
        "not valid base64",
    ),
    (
        "upload-style no data",
        "POST",
        "/v1/predict",
        b'{"filename": "a.png", "filetype": "image/png"}',
        JSON,
        400,
        'field "image"',
    ),
    ("text/plain", "POST", "/v1/predict", b"abc", {"Content-Type": "text/plain"}, 415, "Unsupported content type"),
    ("no content type", "POST", "/v1/predict", b"abc", {}, 415, "Unsupported content type"),
    (
        "form urlencoded",
        "POST",
        "/v1/predict",
        b"image=abc",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "Unsupported",
    ),
    ("multipart without file", *("POST", "/v1/predict"), *multipart("other", "a.png", b"x"), 400, "named 'file'"),
    ("multipart empty file", *("POST", "/v1/predict"), *multipart("file", "a.png", b""), 400, "Image is empty"),
    ("multipart not an image", *("POST", "/v1/predict"), *multipart("file", "a.png", NOT_IMAGE), 400, "Cannot read"),
    ("oversize body", "POST", "/v1/predict", b"{" + b" " * (16 * 1024 * 1024), JSON, 413, "Too Large"),
    ("PUT", "PUT", "/v1/predict", b"{}", JSON, 405, "Method Not Allowed"),
    ("DELETE", "DELETE", "/v1/predict", b"", {}, 405, "Method Not Allowed"),
    ("POST to health", "POST", "/", b"{}", JSON, 405, "Method Not Allowed"),
    ("unknown route", "GET", "/v2/predict", b"", {}, 404, "Not Found"),
    ("GET without image_url", "GET", "/v1/predict", b"", {}, 400, "needs ?image_url"),
    ("empty image_url", "GET", "/v1/predict?image_url=", b"", {}, 400, "needs ?image_url"),
    ("ftp url", "GET", "/v1/predict?image_url=ftp://example.com/a.png", b"", {}, 400, "http:// or https://"),
    ("file url", "GET", "/v1/predict?image_url=file:///etc/passwd", b"", {}, 400, "http:// or https://"),
    ("javascript url", "GET", "/v1/predict?image_url=javascript:alert(1)", b"", {}, 400, "http:// or https://"),
    ("url without host", "GET", "/v1/predict?image_url=http:///a.png", b"", {}, 400, "http:// or https://"),
    ("bad port", "GET", "/v1/predict?image_url=http://example.com:99999/", b"", {}, 400, "bad port"),
    (
        "unresolvable host",
        "GET",
        "/v1/predict?image_url=http://no-such-host.invalid/a.png",
        b"",
        {},
        400,
        "does not resolve",
    ),
]
SSRF_URLS = [
    "http://127.0.0.1/",
    "http://127.1.2.3:8000/a.png",
    "http://localhost/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://224.0.0.1/",
    "https://127.0.0.1/",
]


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "headers", "status", "fragment"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_gets_a_clear_4xx(api_server, name, method, path, body, headers, status, fragment):
    got_status, answer = api_server.call(method, path, body, headers)
    assert got_status == status
    assert fragment in answer["error"]
    assert "Traceback" not in answer["error"] and " object at 0x" not in answer["error"]


@pytest.mark.parametrize("url", SSRF_URLS)
def test_internal_addresses_are_refused(api_server, url):
    status, answer = api_server.call("GET", f"/v1/predict?image_url={url}")
    assert status == 400 and "refused address" in answer["error"]


def test_blank_paper_reads_as_empty_text(api_server):
    paper = np.random.default_rng(0).normal(235, 4, (40, 200)).clip(0, 255).astype(np.uint8)  # Grain, no ink.
    for image in (Image.new("L", (200, 40), 240), Image.fromarray(paper)):
        status, answer = post_json(api_server, {"image": data_url(png_bytes(image))})
        assert status == 200 and answer == {"pred": "", "conf": 1.0}


def test_metrics_count_requests_and_confidence(api_server):
    post_json(api_server, {"image": data_url(LINE.read_bytes())})
    api_server.call("GET", "/v1/predict")
    status, answer = api_server.call("GET", "/metrics")
    text = answer["raw"]
    assert status == 200
    assert 'api_requests_total{status="200"}' in text and 'api_requests_total{status="400"}' in text
    assert "api_prediction_confidence_count" in text and "api_request_latency_seconds_bucket" in text
    assert np.isfinite(float(text.split("api_image_mean_intensity_sum ")[1].split()[0]))


def test_extreme_aspect_ratio_is_answered(api_server):
    sliver = np.full((2, 16_000), 230, dtype=np.uint8)
    sliver[:, ::9] = 10
    status, answer = post_json(api_server, {"image": data_url(png_bytes(Image.fromarray(sliver)))})
    assert status == 200 and answer["pred"] == predictor.predict(sliver)[0]


PAGE = SUPPORT.parent / "pages" / "five_lines.png"


def test_page_mode_answers_the_text_and_each_line_with_its_box(api_server):
    expected = ParagraphTextRecognizer().predict(PAGE)
    status, answer = api_server.call(
        "POST", "/v1/predict?mode=page", json.dumps({"image": data_url(PAGE.read_bytes())}).encode(), JSON
    )
    assert status == 200 and answer["pred"] == expected.text and len(answer["lines"]) == 5
    assert [line["box"] for line in answer["lines"]] == [list(line.box) for line in expected.lines]
    assert [line["text"] for line in answer["lines"]] == answer["pred"].split("\n")
    assert 0 < answer["conf"] <= 1 and all(0 < line["conf"] <= 1 for line in answer["lines"])
    body, headers = multipart("file", PAGE.name, PAGE.read_bytes())
    status, answer = api_server.call("POST", "/v1/predict?mode=page", body, headers)
    assert status == 200 and answer["pred"] == expected.text


def read_upload(server, image: Path, mode: str) -> dict:
    body, headers = multipart("file", image.name, image.read_bytes())
    status, answer = server.call("POST", f"/v1/predict?mode={mode}", body, headers)
    assert status == 200, answer
    return answer


@pytest.mark.parametrize(("mode", "path"), [("line", LINE), ("page", PAGE)])
def test_sixteen_bit_tiff_transparent_png_and_sideways_photo_read_the_same(api_server, tmp_path, mode, path):
    expected = read_upload(api_server, path, mode)
    assert read_upload(api_server, sixteen_bit_tiff(path, tmp_path / "sent.tif"), mode) == expected
    assert read_upload(api_server, transparent_png(path, tmp_path / "sent.png"), mode) == expected
    photo = read_upload(api_server, upright_jpeg(path, tmp_path / "upright.jpg"), mode)["pred"]
    # The same text; confidences differ a little, as JPEG compresses the turned pixels in other blocks.
    assert read_upload(api_server, exif_rotated_jpeg(path, tmp_path / "sideways.jpg"), mode)["pred"] == photo


def test_turned_pages_and_upside_down_lines_are_read_upright(api_server):
    turned_page = multipart("file", PAGE.name, png_bytes(Image.open(PAGE).rotate(-270, expand=True)))
    status, answer = api_server.call("POST", "/v1/predict?mode=page", *turned_page)
    assert status == 200 and answer["rotation"] == 270
    assert answer["pred"] == read_upload(api_server, PAGE, "page")["pred"]
    turned_line = multipart("file", LINE.name, png_bytes(Image.open(LINE).rotate(180)))
    expected = read_upload(api_server, LINE, "line")["pred"]
    assert api_server.call("POST", "/v1/predict", *turned_line)[1]["pred"] != expected  # Read as sent,
    assert api_server.call("POST", "/v1/predict?upside_down=1", *turned_line)[1]["pred"] == expected  # or either way.


def test_unknown_mode_is_refused(api_server):
    status, answer = api_server.call(
        "POST", "/v1/predict?mode=paragraph", json.dumps({"image": data_url(LINE.read_bytes())}).encode(), JSON
    )
    assert status == 400 and answer["error"] == "mode must be one of line, page, got 'paragraph'"


def test_the_accurate_model_is_chosen_by_name_for_lines_and_pages(api_server):
    status, answer = api_server.call("GET", "/")
    assert answer["models"] == {
        "default": LinePredictor("default").name,
        "accurate": LinePredictor("accurate").name,
    }
    body = json.dumps({"image": data_url(LINE.read_bytes())}).encode()
    status, answer = api_server.call("POST", "/v1/predict?model=accurate", body, JSON)
    assert status == 200 and answer["pred"] == LinePredictor("accurate").predict(LINE)[0]
    expected = ParagraphTextRecognizer(line_model="accurate").predict(PAGE)
    body = json.dumps({"image": data_url(PAGE.read_bytes())}).encode()
    status, answer = api_server.call("POST", "/v1/predict?mode=page&model=accurate", body, JSON)
    assert status == 200 and answer["pred"] == expected.text


def test_unknown_model_is_refused(api_server):
    body = json.dumps({"image": data_url(LINE.read_bytes())}).encode()
    status, answer = api_server.call("POST", "/v1/predict?model=best", body, JSON)
    assert status == 400 and answer["error"] == "model must be one of default, accurate, got 'best'"
