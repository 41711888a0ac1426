import shutil
from pathlib import Path

import pytest

from text_recognizer.line_predictor import LinePredictor

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LINE = (
    Path(__file__).resolve().parents[2] / "text_recognizer" / "tests" / "support" / "lines" / "He said it was good..png"
)

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
    page.mouse.move(box["x"] + 100, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + 100, box["y"] + 100, steps=10)  # A vertical stroke: "l", "I" or "1".
    page.mouse.up()
    page.click("#read")
    page.wait_for_function("document.getElementById('confidence').textContent.startsWith('confidence')")
    assert page.text_content("#result").strip() in {"l", "I", "1", "i", "t", "/"}
    assert page.text_content("#error") == ""
