"""Cutting a page into named line images: cuts fall between the lines, despite a dark scan edge and specks."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from evaluation.page_lines import line_bounds, save_lines
from text_recognizer.preprocessing import to_ink

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Oblique.ttf"
TEXTS = ["He rose from his bench", "and came into the room,", "almost falling."]
BASELINES = (60, 125, 185)  # Uneven line spacing, as on a written page.


def page() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A scanned-looking page of the three lines, and the rows each line's ink spans."""
    image = Image.new("L", (700, 240), 235)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 36)
    for text, baseline in zip(TEXTS, BASELINES, strict=True):
        draw.text((40 + baseline % 50, baseline), text, font=font, fill=30, anchor="ls")
    draw.rectangle((0, 0, 6, 239), fill=60)  # The scanner's dark edge, inked in every row.
    draw.point((600, 230), fill=0)  # A speck below the text.
    gray = np.asarray(image)
    spans = []
    for baseline in BASELINES:
        ink_rows = np.flatnonzero((gray[baseline - 40 : baseline + 12, 20:] < 128).any(axis=1)) + baseline - 40
        spans.append((int(ink_rows[0]), int(ink_rows[-1]) + 1))
    return gray, spans


def test_cuts_fall_between_the_lines() -> None:
    """Each cut line holds all of its own ink and none of the next line's."""
    gray, spans = page()
    bounds = line_bounds(to_ink(gray), len(TEXTS))
    assert len(bounds) == 3
    for (start, end), (ink_start, ink_end) in zip(bounds, spans, strict=True):
        assert start <= ink_start and ink_end <= end
    for (_, end), (next_start, _) in zip(bounds[:-1], spans[1:], strict=True):
        assert end <= next_start


def test_lines_are_saved_under_their_text(tmp_path: Path) -> None:
    """Lines are saved full width as `<text>.png`; blank transcript lines are skipped."""
    gray, spans = page()
    Image.fromarray(gray).save(tmp_path / "page.png")
    (tmp_path / "page.txt").write_text("\n".join(TEXTS) + "\n\n")
    paths = save_lines(tmp_path / "page.png", tmp_path / "page.txt", tmp_path / "lines")
    assert [path.name for path in paths] == [f"{text}.png" for text in TEXTS]
    first = np.asarray(Image.open(paths[0]))
    assert first.shape[1] == 700 and first.shape[0] >= spans[0][1] - spans[0][0]


@pytest.mark.parametrize(
    ("transcript", "message"),
    [("\n\n", "has no text"), ("a line\na line\n", "must be distinct"), ("either/or\n", "without '/'")],
)
def test_bad_transcripts_are_refused(tmp_path: Path, transcript: str, message: str) -> None:
    """A transcript that cannot name the line files is refused before anything is written."""
    Image.fromarray(page()[0]).save(tmp_path / "page.png")
    (tmp_path / "page.txt").write_text(transcript)
    with pytest.raises(ValueError, match=message):
        save_lines(tmp_path / "page.png", tmp_path / "page.txt", tmp_path / "lines")
    assert not (tmp_path / "lines").exists()


def test_blank_page_is_refused() -> None:
    """A page without ink has no lines to cut."""
    with pytest.raises(ValueError, match="no ink"):
        line_bounds(np.zeros((100, 100), dtype=np.float32), 2)
