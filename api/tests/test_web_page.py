import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from text_recognizer.line_predictor import LinePredictor
from text_recognizer.paragraph_text_recognizer import ParagraphTextRecognizer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LINE = (
    Path(__file__).resolve().parents[2] / "text_recognizer" / "tests" / "support" / "lines" / "He said it was good..png"
)

PAGE = LINE.parents[1] / "pages" / "five_lines.png"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (tasks/install_system_packages.sh)")


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 900, "height": 700})
        browser.close()


def test_upload_shows_the_text_and_confidence(api_server, page, tmp_path):
    page.goto(f"{api_server.url}/app/")
    page.set_input_files("#file", str(LINE))
    page.wait_for_function("document.getElementById('confidence').textContent.startsWith('confidence')")
    assert page.text_content("#result") == LinePredictor().predict(LINE)[0]
    assert page.text_content("#error") == ""
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drawing_on_the_canvas_is_read(api_server, page):
    page.goto(f"{api_server.url}/app/")
    box = page.locator("#canvas").bounding_box()
    for (x0, y0), (x1, y1) in (((70, 20), (130, 20)), ((100, 20), (100, 100))):  # A T: its bar, then its stem.
        page.mouse.move(box["x"] + x0, box["y"] + y0)
        page.mouse.down()
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=10)
        page.mouse.up()
    page.click("#read")
    page.wait_for_function("document.getElementById('confidence').textContent.startsWith('confidence')")
    assert page.text_content("#result").strip() == "T"
    assert page.text_content("#error") == ""


def test_page_upload_shows_the_page_with_a_box_around_each_line(api_server, page, tmp_path):
    expected = ParagraphTextRecognizer().predict(PAGE)
    page.goto(f"{api_server.url}/app/")
    page.check("input[name=mode][value=page]")
    page.set_input_files("#file", str(PAGE))
    page.wait_for_function("document.getElementById('confidence').textContent.startsWith('confidence')")
    assert page.text_content("#error") == ""
    assert page.locator("#lines li").all_text_contents() == [line.text for line in expected.lines]
    # The boxes are drawn in red over the page: count the red pixels of the canvas, and look at a screenshot.
    red = page.evaluate(
        """() => {
        const view = document.getElementById("page-image");
        const pixels = view.getContext("2d").getImageData(0, 0, view.width, view.height).data;
        let red = 0;
        for (let i = 0; i < pixels.length; i += 4) red += pixels[i] > 200 && pixels[i + 1] < 60 && pixels[i + 2] < 60;
        return red;
    }"""
    )
    perimeters = sum(2 * ((x1 - x0) + (y1 - y0)) for x0, y0, x1, y1 in (line.box for line in expected.lines))
    assert red > perimeters  # Every box's outline, at least a pixel wide.
    shot = tmp_path / "page.png"
    page.locator("#page-image").screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert ((pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)).sum() > 100


def test_the_accurate_model_can_be_chosen(api_server, page):
    page.goto(f"{api_server.url}/app/")
    page.select_option("#model", "accurate")
    page.set_input_files("#file", str(LINE))
    page.wait_for_function("document.getElementById('confidence').textContent.startsWith('confidence')")
    assert page.text_content("#result") == LinePredictor("accurate").predict(LINE)[0]
    assert page.text_content("#error") == ""
