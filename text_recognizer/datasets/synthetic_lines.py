"""Render text lines as synthetic handwriting: per-glyph or per-word size, baseline, spacing; per-line slant, warp."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import signal

from text_recognizer.datasets.handwriting import elastic_warp, load_font, render_glyph
from text_recognizer.preprocessing import EMNIST_SIZE, crop_to_ink, emnist_square, fit_line, ink_bbox

X_HEIGHT = 18  # Pixels from baseline to the top of "x" at which every font is drawn, before any scaling.
MIX_FONT_PROBABILITY = 0.05  # Chance that a glyph (or word) comes from another font, as in EMNIST-built lines.
WIDE_SPACING_PROBABILITY = 0.15  # Lines written with letters spaced apart, as in print-style hands.
WHOLE_WORD_PROBABILITY = 0.5  # Lines drawn a word at a time (cursive joins kept), not a glyph at a time.
CHAR_SIZE = EMNIST_SIZE  # Side of an EMNIST character box.
BASELINE_MEMORY = 0.8  # How much of a glyph's (or word's) baseline offset the next one keeps.
MAX_SLOPE_RISE = X_HEIGHT / 2  # Most pixels a sloped line rises over its length: a steeper one shrinks its text.
# Least mean character width, in ink heights (about 11 px per character once scaled to 32 px); narrower lines
# give a letter too few of the network's 4-px CTC steps. Real lines that come out narrower (IAM lines average
# about 9 px per character) are stretched by the predictor (see `LinePredictor`).
MIN_CHAR_WIDTH = 0.4


@functools.cache
def font_size(font_path: Path) -> int:
    """Font size that gives the font an x-height of `X_HEIGHT` pixels (fonts differ twofold at equal sizes)."""
    probe = 100
    top = load_font(font_path, probe).getbbox("x", anchor="ls")[1]
    return max(8, round(probe * X_HEIGHT / max(1, -top)))


def draw_text(text: str, fonts: tuple[Path, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw the text on a baseline, jittering each unit's size, height and spacing.

    A unit is a glyph, or, in `WHOLE_WORD_PROBABILITY` of lines, a whole word: drawn in one piece, a word keeps
    its font's own letter spacing and the joins of cursive fonts. Spaces only advance the pen: some fonts draw
    ruling or marks for them.

    Returns:
        float32 ink image (1.0 ink on 0.0), before any line-level distortion.
    """
    main_font = fonts[rng.integers(len(fonts))]
    size = font_size(main_font)
    canvas = Image.new("L", (int(size * (len(text) + 2) * 1.1), size * 3), 0)
    draw = ImageDraw.Draw(canvas)
    x, baseline = float(size) * 0.5, size * 2.0
    spacing = rng.uniform(0.15, 0.6) if rng.random() < WIDE_SPACING_PROBABILITY else rng.uniform(-0.06, 0.12)
    spacing *= size
    units = re.findall(r"\S+| ", text) if rng.random() < WHOLE_WORD_PROBABILITY else list(text)
    # The baseline wanders like a hand across ruled paper: correlated from unit to unit, but it never drifts off.
    wobble = signal.lfilter([1.0], [1.0, -BASELINE_MEMORY], rng.normal(0, 0.8, len(units)))
    stroke = int(rng.integers(0, 2))  # Wider outlines would close the loops of bold fonts at this size.
    for i, unit in enumerate(units):
        font_path = fonts[rng.integers(len(fonts))] if rng.random() < MIX_FONT_PROBABILITY else main_font
        font = load_font(font_path, int(font_size(font_path) * rng.uniform(0.88, 1.12)))
        y = baseline + wobble[i] + rng.normal(0, 0.8)
        if unit != " ":
            draw.text((x, y), unit, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255)
        x += font.getlength(unit) + spacing + rng.normal(0, 0.04) * size
    return crop_to_ink(np.asarray(canvas, dtype=np.float32) / 255.0, margin=size // 2, threshold=0.05)


def boxed_glyphs(text: str, fonts: tuple[Path, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw each character in its own 28×28 box, scaled to fill it, the boxes overlapping (EMNIST Lines style).

    As in EMNIST, every character comes from a different hand (font). Meant for letters, digits and spaces:
    punctuation scaled to fill a box would not look like punctuation.

    Returns:
        float32 ink image (1.0 ink on 0.0).
    """
    space = np.zeros((CHAR_SIZE, CHAR_SIZE), dtype=np.uint8)
    glyphs = [space if c == " " else emnist_square(render_glyph(c, fonts[rng.integers(len(fonts))], rng)) for c in text]
    return build_line(glyphs, rng.uniform(0, 0.33), CHAR_SIZE * len(text)).astype(np.float32) / 255.0


def build_line(glyphs: list[np.ndarray], overlap: float, width: int) -> np.ndarray:
    """Place 28×28 glyphs left to right, each `overlap` of a glyph width over the previous one.

    Args:
        glyphs: white-on-black uint8 glyphs, one per character (an empty one for a space).
        overlap: fraction of a glyph width shared by neighbours.
        width: width of the output image.

    Returns:
        uint8 (28, width) image; overlapping ink keeps the brighter pixel.
    """
    step = CHAR_SIZE - int(overlap * CHAR_SIZE)
    image = np.zeros((CHAR_SIZE, width), dtype=np.uint8)
    for k, glyph in enumerate(glyphs):
        x = k * step
        np.maximum(image[:, x : x + CHAR_SIZE], glyph, out=image[:, x : x + CHAR_SIZE])
    return image


def distort_line(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slant, stretch, warp and blur a line image; ink stays 1.0 on 0.0."""
    image = Image.fromarray((ink * 255).astype(np.uint8))
    w, h = image.size
    shear = rng.uniform(-0.4, 0.3)
    stretch = rng.uniform(0.75, 1.25)
    image = image.transform(
        (int(w * stretch), h),
        Image.Transform.AFFINE,
        (1 / stretch, shear, -shear * h / 2, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )
    max_angle = np.degrees(np.arctan(MAX_SLOPE_RISE / image.width))
    angle = np.clip(rng.normal(0, 1.0), -max_angle, max_angle)
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    return elastic_warp(np.asarray(image, dtype=np.float32) / 255.0, rng, alpha=rng.uniform(10, 40), sigma=6.0)


def paper_and_ink(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Put an ink image on paper: ink intensity, background texture, lighting gradient and sensor noise.

    Returns:
        uint8 grayscale, dark ink on light paper.
    """
    h, w = line.shape
    paper = rng.uniform(190, 250) + rng.normal(0, rng.uniform(0, 6), (h, w))
    paper += np.linspace(0, rng.uniform(-20, 20), w)[None, :]  # Uneven lighting.
    ink_level = rng.uniform(0, 90)
    image = paper * (1 - line) + ink_level * line
    image = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    return np.asarray(image)


def render_photo(text: str, fonts: tuple[Path, ...], rng: np.random.Generator, boxed: bool = False) -> np.ndarray:
    """Render `text` as a photo of handwriting would show it: uint8 grayscale, dark ink on paper, natural size.

    `boxed` draws it EMNIST Lines style (see `boxed_glyphs`) instead of as a written line.
    """
    if boxed:
        return paper_and_ink(boxed_glyphs(text, fonts, rng), rng)
    return paper_and_ink(widen(distort_line(draw_text(text, fonts, rng), rng), len(text)), rng)


def widen(ink: np.ndarray, chars: int) -> np.ndarray:
    """Stretch a line whose `chars` characters average under `MIN_CHAR_WIDTH` of its ink height in width."""
    box = ink_bbox(ink, threshold=0.05)
    if box is None:
        return ink
    top, bottom, left, right = box
    factor = MIN_CHAR_WIDTH * (bottom - top) * chars / (right - left)
    if factor <= 1:
        return ink
    width = round(ink.shape[1] * factor)
    return np.asarray(Image.fromarray(ink).resize((width, ink.shape[0]), Image.Resampling.BILINEAR))


def render_line(
    text: str, fonts: tuple[Path, ...], rng: np.random.Generator, height: int, width: int, boxed: bool = False
) -> np.ndarray:
    """Render `text` as a handwriting line in the network's input format (`boxed`: see `render_photo`).

    Returns:
        uint8 (height, width) white-on-black image, ink cropped and scaled to `height`, left-aligned.
    """
    photo = render_photo(text, fonts, rng, boxed)
    if rng.random() < 0.5:
        photo = 255 - photo  # Both polarities reach the predictor; preprocessing must undo either.
    return fit_line(photo, height, width)
