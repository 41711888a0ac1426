"""Fabricated pages for the page-file tests: an image with strokes per line, and its PAGE XML or ALTO file."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from PIL import Image

PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_V2 = "http://www.loc.gov/standards/alto/ns-v2#"
WIDTH, HEIGHT = 600, 400
LINE_PITCH = 60  # Line k's strokes fill rows 40 + 60k to 80 + 60k.
PAPER, INK = 230, 25


def line_box(k: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of line k's strokes at full size."""
    return 40, 40 + LINE_PITCH * k, 40 + 60 * (k + 2), 80 + LINE_PITCH * k


def page_image(lines: int, scale: float = 1.0) -> bytes:
    """A JPEG page: line k has vertical strokes over a width that grows with k (so lines differ in width)."""
    page = np.full((round(HEIGHT * scale), round(WIDTH * scale)), PAPER, dtype=np.uint8)
    for k in range(lines):
        x0, y0, x1, y1 = (round(v * scale) for v in line_box(k))
        for x in range(x0, x1, max(2, round(10 * scale))):
            page[y0:y1, x : x + max(1, round(3 * scale))] = INK
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def polygon(k: int, margin: int = 8) -> list[tuple[int, int]]:
    """A polygon around line k's strokes that stops short of its neighbours."""
    x0, y0, x1, y1 = line_box(k)
    return [
        (x0 - margin, y0 - margin),
        (x1 + margin, y0 - margin),
        (x1 + margin, y1 + margin),
        (x0 - margin, y1 + margin),
    ]


def strip(k: int, height: int = 9) -> list[tuple[int, int]]:
    """A polygon `height` pixels tall resting on line k's baseline, as Transkribus writes for a baseline alone."""
    x0, _, x1, y1 = line_box(k)
    return [(x0, y1), (x1, y1), (x1, y1 - height), (x0, y1 - height)]


def page_xml(
    texts: list[str],
    image: str,
    order: list[int] | None = None,
    customs: dict[int, str] | None = None,
    strips: frozenset[int] = frozenset(),
) -> bytes:
    """PAGE XML (2019 schema) with one region; lines appear in `order` in the file, reading order by custom index;
    the lines in `strips` have a strip along their baseline for a polygon."""
    customs = customs or {}
    lines = []
    for k in order or range(len(texts)):
        points = " ".join(f"{x},{y}" for x, y in (strip(k) if k in strips else polygon(k)))
        x0, _, x1, y1 = line_box(k)
        custom = f"readingOrder {{index:{k};}} {customs.get(k, '')}"
        lines.append(
            f'<TextLine id="l{k}" custom={quoteattr(custom)}><Coords points="{points}"/>'
            f'<Baseline points="{x0},{y1} {x1},{y1}"/>'
            f"<TextEquiv><Unicode>{escape(texts[k])}</Unicode></TextEquiv></TextLine>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><PcGts xmlns="{PAGE_2019}"><Page imageFilename="{image}" '
        f'imageWidth="{WIDTH}" imageHeight="{HEIGHT}"><TextRegion id="r0"><Coords points="0,0 1,1"/>'
        f"<TextEquiv><Unicode>all the region's text</Unicode></TextEquiv>{''.join(lines)}</TextRegion></Page></PcGts>"
    ).encode()


def alto_xml(texts: list[str], image: str) -> bytes:
    """ALTO v2: lines as HPOS/VPOS boxes (no polygon), words as String elements separated by SP."""
    lines = []
    for k, text in enumerate(texts):
        x0, y0, x1, y1 = line_box(k)
        words = '<SP WIDTH="5"/>'.join(f"<String CONTENT={quoteattr(word)}/>" for word in text.split(" "))
        lines.append(
            f'<TextLine HPOS="{x0 - 8}" VPOS="{y0 - 8}" WIDTH="{x1 - x0 + 16}" HEIGHT="{y1 - y0 + 16}" '
            f'BASELINE="{y1}">{words}</TextLine>'
        )
    return (
        f'<?xml version="1.0"?><alto xmlns="{ALTO_V2}"><Description><MeasurementUnit>pixel</MeasurementUnit>'
        f"<sourceImageInformation><fileName>{image}</fileName></sourceImageInformation></Description>"
        f'<Layout><Page WIDTH="{WIDTH}" HEIGHT="{HEIGHT}"><PrintSpace><TextBlock>{"".join(lines)}'
        "</TextBlock></PrintSpace></Page></Layout></alto>"
    ).encode()
