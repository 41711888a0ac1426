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
PROBE_SIZE, MIN_FONT_SIZE = 100, 8  # Size at which a font's x-height is measured; smallest size drawn.
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
# Per-unit (glyph or word) variation, in font sizes or pixels as noted.
WIDE_SPACING = (0.15, 0.6)  # Extra space between units of widely spaced lines, in font sizes.
NORMAL_SPACING = (-0.06, 0.12)  # Extra space between units of other lines (negative: they touch), in font sizes.
SPACING_JITTER = 0.04  # Standard deviation of each gap, in font sizes.
UNIT_SCALE = (0.88, 1.12)  # Size of each unit relative to its font's x-height size.
BASELINE_WANDER = 0.8  # Standard deviation, in pixels, of the wandering baseline's steps.
BASELINE_JITTER = 0.8  # Standard deviation, in pixels, of each unit's own offset from it.
INK_CROP = 0.05  # Ink level above which a rendered pixel counts when cropping.
MAX_BOX_OVERLAP = 0.33  # Most a boxed glyph overlaps the previous one, as a fraction of the box.
# Per-line distortion.
SHEAR = (-0.4, 0.3)  # Slant, as the horizontal shift per row (negative: leaning right).
STRETCH = (0.75, 1.25)  # Horizontal scale.
SLOPE_DEGREES = 1.0  # Standard deviation of the line's rotation.
WARP_ALPHA, WARP_SIGMA = (10, 40), 6.0  # Elastic warp strength (range) and smoothness, in pixels.
# Paper, ink and camera.
PAPER_LEVEL = (190, 250)  # Gray level of the paper.
PAPER_GRAIN = (0, 6)  # Standard deviation of the paper's texture.
LIGHTING = 20  # Most gray levels the lighting changes across the line.
INK_LEVEL = (0, 90)  # Gray level of the ink.
BLUR_PROBABILITY, BLUR_RADIUS = 0.5, (0.3, 1.2)  # Out-of-focus lines and their Gaussian radius.
INVERTED_PROBABILITY = 0.5  # Lines drawn white on black: both polarities reach the predictor.


@functools.cache
def font_size(font_path: Path) -> int:
    """Font size that gives the font an x-height of `X_HEIGHT` pixels (fonts differ twofold at equal sizes)."""
    top = load_font(font_path, PROBE_SIZE).getbbox("x", anchor="ls")[1]
    return max(MIN_FONT_SIZE, round(PROBE_SIZE * X_HEIGHT / max(1, -top)))


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
    canvas = Image.new("L", (int(size * (len(text) + 2) * 1.1), size * 3), 0)  # Room for wide glyphs and descenders.
    draw = ImageDraw.Draw(canvas)
    x, baseline = float(size) * 0.5, size * 2.0  # Half a size of margin; two sizes above the baseline.
    spacing = rng.uniform(*WIDE_SPACING) if rng.random() < WIDE_SPACING_PROBABILITY else rng.uniform(*NORMAL_SPACING)
    spacing *= size
    units = re.findall(r"\S+| ", text) if rng.random() < WHOLE_WORD_PROBABILITY else list(text)
    # The baseline wanders like a hand across ruled paper: correlated from unit to unit, but it never drifts off.
    wobble = signal.lfilter([1.0], [1.0, -BASELINE_MEMORY], rng.normal(0, BASELINE_WANDER, len(units)))
    stroke = int(rng.integers(0, 2))  # Wider outlines would close the loops of bold fonts at this size.
    for i, unit in enumerate(units):
        font_path = fonts[rng.integers(len(fonts))] if rng.random() < MIX_FONT_PROBABILITY else main_font
        font = load_font(font_path, int(font_size(font_path) * rng.uniform(*UNIT_SCALE)))
        y = baseline + wobble[i] + rng.normal(0, BASELINE_JITTER)
        if unit != " ":
            draw.text((x, y), unit, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255)
        x += font.getlength(unit) + spacing + rng.normal(0, SPACING_JITTER) * size
    return crop_to_ink(np.asarray(canvas, dtype=np.float32) / 255.0, margin=size // 2, threshold=INK_CROP)


def boxed_glyphs(text: str, fonts: tuple[Path, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw each character in its own 28×28 box, scaled to fill it, the boxes overlapping (EMNIST Lines style).

    As in EMNIST, every character comes from a different hand (font). Meant for letters, digits and spaces:
    punctuation scaled to fill a box would not look like punctuation.

    Returns:
        float32 ink image (1.0 ink on 0.0).
    """
    space = np.zeros((CHAR_SIZE, CHAR_SIZE), dtype=np.uint8)
    glyphs = [space if c == " " else emnist_square(render_glyph(c, fonts[rng.integers(len(fonts))], rng)) for c in text]
    return build_line(glyphs, rng.uniform(0, MAX_BOX_OVERLAP), CHAR_SIZE * len(text)).astype(np.float32) / 255.0


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
    shear = rng.uniform(*SHEAR)
    stretch = rng.uniform(*STRETCH)
    image = image.transform(
        (int(w * stretch), h),
        Image.Transform.AFFINE,
        (1 / stretch, shear, -shear * h / 2, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )
    max_angle = np.degrees(np.arctan(MAX_SLOPE_RISE / image.width))
    angle = np.clip(rng.normal(0, SLOPE_DEGREES), -max_angle, max_angle)
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    return elastic_warp(
        np.asarray(image, dtype=np.float32) / 255.0, rng, alpha=rng.uniform(*WARP_ALPHA), sigma=WARP_SIGMA
    )


def paper_and_ink(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Put an ink image on paper: ink intensity, background texture, lighting gradient and sensor noise.

    Returns:
        uint8 grayscale, dark ink on light paper.
    """
    h, w = line.shape
    paper = rng.uniform(*PAPER_LEVEL) + rng.normal(0, rng.uniform(*PAPER_GRAIN), (h, w))
    paper += np.linspace(0, rng.uniform(-LIGHTING, LIGHTING), w)[None, :]  # Uneven lighting.
    ink_level = rng.uniform(*INK_LEVEL)
    image = paper * (1 - line) + ink_level * line
    image = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    if rng.random() < BLUR_PROBABILITY:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(*BLUR_RADIUS)))
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
    box = ink_bbox(ink, threshold=INK_CROP)
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
    if rng.random() < INVERTED_PROBABILITY:
        photo = 255 - photo  # Preprocessing must undo either polarity.
    return fit_line(photo, height, width)
