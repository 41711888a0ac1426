import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from text_recognizer.line_predictor import BACKENDS, LinePredictor
from text_recognizer.metrics import character_error_rate
from text_recognizer.paragraph_text_recognizer import DEFAULT_DETECTOR, ParagraphTextRecognizer
from text_recognizer.preprocessing import load_image
from text_recognizer.tests.sent_images import exif_rotated_jpeg, sixteen_bit_tiff, transparent_png, upright_jpeg

PAGE = Path(__file__).parent / "support" / "pages" / "five_lines.png"
TEXTS = (Path(__file__).parent / "support" / "pages" / "five_lines.txt").read_text().splitlines()
CUT_CER = 0.05  # A line cut from a page (or from a page twice the size) reads within this of the line alone.
PAGE_CER_CEILING = 0.25  # The five support lines in held-out fonts; the line model alone reads them at about 0.1.


@pytest.fixture(scope="module", params=BACKENDS)
def recognizer(request):
    return ParagraphTextRecognizer(backend=request.param)


def test_reads_every_line_of_a_page_top_to_bottom(recognizer):
    prediction = recognizer.predict(PAGE)
    print(prediction.text)
    assert len(prediction.lines) == len(TEXTS)
    assert prediction.text == "\n".join(line.text for line in prediction.lines)
    assert character_error_rate(prediction.text.splitlines(), TEXTS) < PAGE_CER_CEILING
    height, width = load_image(PAGE).shape
    tops = [line.box[1] for line in prediction.lines]
    assert tops == sorted(tops)
    for line in prediction.lines:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and 0 < line.confidence <= 1


def test_the_lines_of_a_page_read_as_the_same_lines_on_their_own():
    """The support page is the five support lines set one under another: found, cut and read on the page, each
    line reads as its own image does."""
    on_their_own = LinePredictor().predict_batch([PAGE.parent.parent / "lines" / f"{text}.png" for text in TEXTS])
    on_the_page = [line.text for line in ParagraphTextRecognizer().predict(PAGE).lines]
    assert len(on_the_page) == len(TEXTS)
    assert character_error_rate(on_the_page, [text for text, _ in on_their_own]) <= CUT_CER  # Cut from the page.


def texts_and_boxes(prediction) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    return [line.text for line in prediction.lines], [line.box for line in prediction.lines]


def test_any_polarity_and_size_give_the_same_lines():
    recognizer = ParagraphTextRecognizer()
    texts, boxes = texts_and_boxes(recognizer.predict(PAGE))
    page = Image.open(PAGE)
    assert texts_and_boxes(recognizer.predict(Image.fromarray(255 - np.asarray(page)))) == (texts, boxes)
    larger_texts, larger_boxes = texts_and_boxes(recognizer.predict(page.resize((page.width * 2, page.height * 2))))
    assert character_error_rate(larger_texts, texts) <= CUT_CER
    assert np.abs(np.array(larger_boxes) - 2 * np.array(boxes)).max() <= 4  # Boxes found on the page at 512 px.


def test_a_skewed_page_gives_its_lines_in_order():
    prediction = ParagraphTextRecognizer().predict(Image.open(PAGE).rotate(2, expand=True, fillcolor=238))
    assert len(prediction.lines) == len(TEXTS)
    assert character_error_rate(prediction.text.splitlines(), TEXTS) < PAGE_CER_CEILING


def test_pages_sent_as_sixteen_bit_tiff_transparent_png_or_sideways_photo_read_the_same(tmp_path):
    recognizer = ParagraphTextRecognizer()
    expected = texts_and_boxes(recognizer.predict(PAGE))
    assert texts_and_boxes(recognizer.predict(sixteen_bit_tiff(PAGE, tmp_path / "page.tif"))) == expected
    assert texts_and_boxes(recognizer.predict(transparent_png(PAGE, tmp_path / "page.png"))) == expected
    photo_texts, photo_boxes = texts_and_boxes(recognizer.predict(upright_jpeg(PAGE, tmp_path / "upright.jpg")))
    texts, boxes = texts_and_boxes(recognizer.predict(exif_rotated_jpeg(PAGE, tmp_path / "sideways.jpg")))
    assert texts == photo_texts and len(texts) == len(TEXTS)
    assert np.abs(np.array(boxes) - np.array(photo_boxes)).max() <= 4  # JPEG compresses the turned pixels apart.


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_turned_page_is_read_upright_with_its_boxes_on_the_page_as_sent(rotation):
    recognizer = ParagraphTextRecognizer()
    upright = recognizer.predict(PAGE)
    height, width = load_image(PAGE).shape
    sent = Image.open(PAGE).rotate(-rotation, expand=True)  # Turned clockwise.
    prediction = recognizer.predict(sent)
    assert prediction.rotation == rotation and upright.rotation == 0
    assert [line.text for line in prediction.lines] == [line.text for line in upright.lines]
    boxes_as_sent = {  # Each upright box (x0, y0, x1, y1) after the page is turned clockwise.
        90: lambda x0, y0, x1, y1: (height - y1, x0, height - y0, x1),
        180: lambda x0, y0, x1, y1: (width - x1, height - y1, width - x0, height - y0),
        270: lambda x0, y0, x1, y1: (y0, width - x1, y1, width - x0),
    }[rotation]
    expected = np.array([boxes_as_sent(*line.box) for line in upright.lines])
    assert np.abs(np.array([line.box for line in prediction.lines]) - expected).max() <= 4
    for line in prediction.lines:  # Polygons too lie on the page as sent.
        assert np.array_equal(line.box[:2], np.floor(line.polygon.min(axis=0)))


def test_blank_page_has_no_lines():
    prediction = ParagraphTextRecognizer().predict(np.full((300, 400), 230, dtype=np.uint8))
    assert prediction.text == "" and prediction.lines == []


def test_onnx_path_imports_no_tensorflow():
    code = (
        "import sys; from text_recognizer.paragraph_text_recognizer import ParagraphTextRecognizer; "
        f"print(len(ParagraphTextRecognizer().predict({str(PAGE)!r}).lines)); "
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == [str(len(TEXTS)), "[]"]


def test_bad_artifacts_and_backends_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="is not a line detector"):
        ParagraphTextRecognizer(
            detector=DEFAULT_DETECTOR.with_name("LineModelCtc_MixedLinesDataset_ppocr_rec_tiny.json")
        )
    with pytest.raises(ValueError, match="backend must be one of onnx, keras"):
        ParagraphTextRecognizer(backend="torch")
