"""Turn a prediction request into an image: JSON (data URL, plain base64, upload-style), multipart, or image_url."""

from __future__ import annotations

import base64
import binascii
import io
import os
from typing import Any

from flask import Request
from PIL import Image

from api.fetch import any_address, fetch_image_bytes, public_only
from text_recognizer.preprocessing import open_image

ALLOW_PRIVATE_URLS_ENV = "API_ALLOW_PRIVATE_URLS"  # "1" lets image_url reach private addresses (tests, intranets).


class ApiError(Exception):
    """A client error: answered with `status` and `{"error": message}`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def image_from_request(request: Request) -> Image.Image:
    """The request's image, or ApiError saying what is wrong with the request."""
    if request.method == "GET":
        url = request.args.get("image_url")
        if not url:
            raise ApiError("GET /v1/predict needs ?image_url=http(s)://...; or POST an image")
        try:
            allowed = any_address if os.environ.get(ALLOW_PRIVATE_URLS_ENV) == "1" else public_only
            data = fetch_image_bytes(url, allowed)
        except ValueError as e:
            raise ApiError(str(e)) from e
        return decode_image(data)
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file") or request.files.get("image")
        if upload is None:
            raise ApiError("Multipart upload needs a file field named 'file' or 'image'")
        return decode_image(upload.read())
    if request.mimetype != "application/json":
        raise ApiError(f"Unsupported content type {request.mimetype or 'none'!r}; send application/json", 415)
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # Absurdly nested JSON.
        body = None
    return decode_image(base64_payload(body))


def base64_payload(body: Any) -> bytes:
    """Bytes of `{"image": "data:...;base64,..."}`, `{"image": "<base64>"}` or `{"filename", "filetype", "data"}`."""
    if not isinstance(body, dict):
        raise ApiError('Body must be a JSON object like {"image": "data:image/png;base64,..."}')
    text = body.get("image", body.get("data"))
    if not isinstance(text, str) or not text:
        raise ApiError('JSON needs a non-empty string field "image" (or "data" with "filename" and "filetype")')
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if not header.endswith(";base64"):
            raise ApiError("Data URL must be base64-encoded (data:image/png;base64,...)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ApiError(f"Image is not valid base64: {e}") from e


def decode_image(data: bytes) -> Image.Image:
    """Decode image bytes, refusing empty, corrupt, truncated and oversized images."""
    if not data:
        raise ApiError("Image is empty")
    try:
        return open_image(io.BytesIO(data))
    except ValueError as e:
        raise ApiError(str(e)) from e
