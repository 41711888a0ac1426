"""Synthetic pages of handwriting: paragraphs composed from synthetic lines, with every line's outline as truth.

Neighbouring lines are set close enough that ascenders and descenders touch or overlap; lines are indented,
end raggedly, slope and bow a little; the page is skewed by a few degrees and put on textured, sometimes ruled
paper under uneven light and shadow, sometimes inverted, sometimes JPEG-compressed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from text_recognizer.datasets.synthetic_lines import INK_CROP, X_HEIGHT, distort_line, draw_text, paper_and_ink, widen
from text_recognizer.preprocessing import crop_to_ink

LINE_PITCH = (0.85, 1.5)  # Distance between baselines, in ink heights of the page's typical line.
PITCH_JITTER = 0.06  # Standard deviation of each line's own offset, in ink heights.
MARGIN = (0.02, 0.2)  # Blank paper at each side, in page widths (the long side's share is drawn for each).
INDENT_PROBABILITY = 0.4  # Chance that a paragraph's first line is indented.
INDENT = (1.0, 5.0)  # An indentation, in x-heights.
LINE_START_JITTER = 0.6  # Standard deviation of each line's start, in x-heights (hands do not keep a margin).
BOW_PROBABILITY = 0.4  # Chance that a line bows (its middle higher or lower than its ends).
BOW = 0.5  # Most a line's middle rises or sinks, in x-heights.
SKEW_DEGREES = 3.0  # Most the page is rotated.
RULED_PROBABILITY = 0.3  # Chance of ruled paper, a rule under each line.
RULE_INK = (0.15, 0.5)  # Darkness of the rules, as a fraction of the ink's.
SHADOW_PROBABILITY = 0.3  # Chance of a shadow falling across a side of the page.
SHADOW_DEPTH = (0.2, 0.6)  # How much the shadow darkens the paper at its darkest.
JPEG_PROBABILITY = 0.5
JPEG_QUALITY = (25, 90)
INVERTED_PROBABILITY = 0.15  # Light writing on a dark ground, as some scans and exports show it.
OUTLINE_STEP = 8  # Columns between the points of a line's outline.


def outline(ink: np.ndarray, x0: float, y0: float) -> np.ndarray:
    """The outline of a line's ink as a polygon (x, y), offset by (x0, y0): its top and bottom, column by column.

    Columns without ink (between words) take the outline of their neighbours.
    """
    columns = np.arange(0, ink.shape[1], OUTLINE_STEP)
    inked = ink > INK_CROP
    tops, bottoms, xs = [], [], []
    for x in columns:
        rows = np.flatnonzero(inked[:, x : x + OUTLINE_STEP].any(axis=1))
        if len(rows):
            xs.append(x)
            tops.append(rows[0])
            bottoms.append(rows[-1] + 1)
    xs_all = np.r_[columns, ink.shape[1]]
    top = np.interp(xs_all, xs, tops)
    bottom = np.interp(xs_all, xs, bottoms)
    upper = np.stack([xs_all, top], axis=1)
    lower = np.stack([xs_all, bottom], axis=1)[::-1]
    return np.concatenate([upper, lower]) + (x0, y0)


def bow(ink: np.ndarray, rise: float) -> np.ndarray:
    """The line bent along a half sine: its middle `rise` pixels higher (negative: lower) than its ends."""
    height, width = ink.shape
    pad = int(np.ceil(abs(rise))) + 1
    padded = np.pad(ink, ((pad, pad), (0, 0)))
    shifts = np.round(rise * np.sin(np.pi * np.arange(width) / max(1, width - 1))).astype(int)
    rows = np.arange(height + 2 * pad)[:, None] + shifts[None, :]
    return np.take_along_axis(padded, np.clip(rows, 0, len(padded) - 1), axis=0)


def written_line(text: str, fonts: tuple[Path, ...], rng: np.random.Generator) -> np.ndarray:
    """One line of the page: float32 ink (1.0 on 0.0) cropped to its ink."""
    ink = widen(distort_line(draw_text(text, fonts, rng), rng), len(text))
    if rng.random() < BOW_PROBABILITY:
        ink = bow(ink, rng.uniform(-BOW, BOW) * X_HEIGHT)
    return crop_to_ink(ink, margin=1, threshold=INK_CROP)


def compose(lines: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """Set the lines one under the other on a blank page; the page's ink and each line's outline."""
    typical = float(np.median([line.shape[0] for line in lines]))
    pitch = rng.uniform(*LINE_PITCH) * typical
    widest = max(line.shape[1] for line in lines)
    indent = rng.uniform(*INDENT) * X_HEIGHT if rng.random() < INDENT_PROBABILITY else 0.0
    margins = rng.uniform(*MARGIN, size=4) * widest  # Left, top, right, bottom.
    height = int(margins[1] + pitch * (len(lines) - 1) + max(line.shape[0] for line in lines) + margins[3]) + 1
    width = int(margins[0] + indent + 3 * LINE_START_JITTER * X_HEIGHT + widest + margins[2]) + 1
    page = np.zeros((height, width), dtype=np.float32)
    polygons = []
    for i, line in enumerate(lines):
        start = (indent if i == 0 else 0.0) + abs(rng.normal(0, LINE_START_JITTER)) * X_HEIGHT
        x = int(margins[0] + start)
        y = int(max(0.0, margins[1] + i * pitch + rng.normal(0, PITCH_JITTER) * typical))
        h, w = min(line.shape[0], height - y), min(line.shape[1], width - x)
        np.maximum(page[y : y + h, x : x + w], line[:h, :w], out=page[y : y + h, x : x + w])
        polygons.append(outline(line[:h, :w], x, y))
    return page, polygons


def rule(page: np.ndarray, polygons: list[np.ndarray], rng: np.random.Generator) -> None:
    """Draw a faint rule across the page under each line, at its baseline, in place."""
    darkness = rng.uniform(*RULE_INK)
    for polygon in polygons:
        bottom = polygon[len(polygon) // 2 :, 1]
        top = polygon[: len(polygon) // 2, 1]
        baseline = int(np.median(bottom - 0.3 * (bottom - top)))
        if 0 <= baseline < len(page):
            np.maximum(page[baseline], darkness, out=page[baseline])


def rotate(image: np.ndarray, polygons: list[np.ndarray], degrees: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rotate an ink page counterclockwise about its centre, growing it to fit, with the polygons."""
    height, width = image.shape
    rotated = Image.fromarray(image).rotate(degrees, resample=Image.Resampling.BILINEAR, expand=True)
    theta = np.radians(degrees)
    turn = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])  # Image axes: y points down.
    centre, new_centre = np.array([width, height]) / 2, np.array(rotated.size) / 2
    return np.asarray(rotated), [(p - centre) @ turn.T + new_centre for p in polygons]


def shadow(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Darken the paper towards one side, as a hand or a phone shades a page."""
    height, width = image.shape
    ramp = np.linspace(1.0, 0.0, width if rng.random() < 0.5 else height) ** rng.uniform(2, 6)
    ramp = ramp if rng.random() < 0.5 else ramp[::-1]
    shade = ramp[None, :] if len(ramp) == width else ramp[:, None]
    return image * (1 - rng.uniform(*SHADOW_DEPTH) * shade)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """The image after a round trip through JPEG at `quality`."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def render_page(texts: list[str], fonts: tuple[Path, ...], rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """A photo of a paragraph of handwriting holding `texts`, one per line, in one of the `fonts`.

    Returns:
        uint8 grayscale page, and each line's outline polygon (x, y points in the page's pixels), top to bottom.
    """
    hand = (fonts[rng.integers(len(fonts))],)  # One hand writes the page.
    page, polygons = compose([written_line(text, hand, rng) for text in texts], rng)
    if rng.random() < RULED_PROBABILITY:
        rule(page, polygons, rng)
    page, polygons = rotate((page * 255).astype(np.uint8), polygons, rng.uniform(-SKEW_DEGREES, SKEW_DEGREES))
    photo = paper_and_ink(page.astype(np.float32) / 255.0, rng).astype(np.float32)
    if rng.random() < SHADOW_PROBABILITY:
        photo = shadow(photo, rng)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    if rng.random() < JPEG_PROBABILITY:
        photo = jpeg(photo, int(rng.integers(*JPEG_QUALITY)))
    if rng.random() < INVERTED_PROBABILITY:
        photo = 255 - photo
    return photo, polygons
