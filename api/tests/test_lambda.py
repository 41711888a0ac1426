import base64
import json
from pathlib import Path

import pytest

from text_recognizer.line_predictor import LinePredictor

LINE = (
    Path(__file__).resolve().parents[2] / "text_recognizer" / "tests" / "support" / "lines" / "Meeting at 10 today.png"
)
EXPECTED = LinePredictor().predict(LINE)[0]  # The handler must answer exactly what the predictor answers.


@pytest.fixture(scope="module")
def handler():
    from api.lambda_function import handler

    return handler


def body_of(image: bytes) -> str:
    return json.dumps({"image": "data:image/png;base64," + base64.b64encode(image).decode()})


def rest_v1_event(method: str, path: str, body: str | None, base64_body: bool, query: dict | None = None) -> dict:
    """An API Gateway REST API (payload 1.0) proxy event, as API Gateway sends it."""
    headers = {"Content-Type": "application/json", "Host": "abc123.execute-api.eu-west-1.amazonaws.com"}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.0"},
            "apiId": "abc123",
        },
        "body": base64.b64encode(body.encode()).decode() if body and base64_body else body,
        "isBase64Encoded": base64_body,
    }


def http_v2_event(method: str, path: str, body: str | None, base64_body: bool, domain: str) -> dict:
    """An HTTP API (payload 2.0) event; Lambda Function URLs send the same format."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": domain, "user-agent": "curl/8.0"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "curl/8.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1795255200000,
        },
        "body": base64.b64encode(body.encode()).decode() if body and base64_body else body,
        "isBase64Encoded": base64_body,
    }


def answer(response: dict) -> dict:
    body = response["body"]
    return json.loads(base64.b64decode(body) if response.get("isBase64Encoded") else body)


@pytest.mark.parametrize("base64_body", [False, True])
def test_rest_api_v1_events(handler, base64_body):
    response = handler(rest_v1_event("POST", "/v1/predict", body_of(LINE.read_bytes()), base64_body), None)
    assert response["statusCode"] == 200 and answer(response)["pred"] == EXPECTED
    health = handler(rest_v1_event("GET", "/", None, False), None)
    assert health["statusCode"] == 200 and answer(health)["status"] == "ok"


@pytest.mark.parametrize("domain", ["abc123.execute-api.eu-west-1.amazonaws.com", "x7q2.lambda-url.eu-west-1.on.aws"])
@pytest.mark.parametrize("base64_body", [False, True])
def test_http_api_v2_and_function_url_events(handler, domain, base64_body):
    response = handler(http_v2_event("POST", "/v1/predict", body_of(LINE.read_bytes()), base64_body, domain), None)
    assert response["statusCode"] == 200 and answer(response)["pred"] == EXPECTED


def test_bad_input_through_lambda_is_a_4xx(handler):
    response = handler(
        http_v2_event("POST", "/v1/predict", '{"image": "@@"}', False, "x.lambda-url.eu-west-1.on.aws"), None
    )
    assert response["statusCode"] == 400 and "not valid base64" in answer(response)["error"]
    missing = handler(rest_v1_event("GET", "/v1/predict", None, False, {"image_url": "http://169.254.169.254/"}), None)
    assert missing["statusCode"] == 400 and "refused address" in answer(missing)["error"]
