"""Synthetic handwriting: glyphs rendered from handwriting fonts with per-glyph stroke and shape variation."""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

from text_recognizer.preprocessing import crop_to_ink, emnist_square

# Handwriting fonts installed by tasks/install_system_packages.sh from Debian packages (file-name patterns), used
# with those that handwriting_fonts.py installs in DOWNLOADED_FONT_DIR.
# Not Ecolier (fonts-ecolier-court): its x-height is a fifth of its ascender-to-descender span, so on a line
# scaled to 32 px its lowercase letters are 6 px high and illegible.
HANDWRITING_FONT_PATTERNS = (
    "ComicNeue-*.otf",  # fonts-comic-neue
    "DancingScript-*.otf",  # fonts-dancingscript
    "KaushanScript-*.otf",  # fonts-kaushanscript
    "Breip*.ttf",  # fonts-breip
    "femkeklaver.ttf",  # fonts-femkeklaver
    "Havana-*.otf",  # fonts-havana
    "dkg*.ttf",  # fonts-dkg-handwriting
    "KleeOne-*.ttf",  # fonts-klee
    "Kristi.ttf",  # fonts-kristi
    "LeckerliOne-*.ttf",  # fonts-leckerli-one
    "Rufscript*.ttf",  # fonts-rufscript
    "Delphine.ttf",  # fonts-sjfonts
    "SteveHand.ttf",  # fonts-sjfonts
    "Purisa*.ttf",  # fonts-tlwg-purisa-ttf
    "YuseiMagic-*.ttf",  # fonts-yusei-magic
)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
DOWNLOADED_FONT_DIR = FONT_DIRS[-1] / "text_recognizer"  # Where handwriting_fonts.py installs its fonts.
# Fallback when no handwriting font is installed: the fonts bundled with matplotlib.
FALLBACK_FONT_PATTERNS = ("DejaVuSans*.ttf", "DejaVuSerif*.ttf")
RENDER_SIZE = 64  # Font size in pixels at which glyphs are drawn before any downscaling.
CASE_PROBE = "abdegrhnq"  # Letters whose capitals look different in any true lowercase design.
CAPS_SIMILARITY = 0.6  # Mean lowercase/capital shape correlation above which a font counts as all-caps.
REQUIRED_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

logger = logging.getLogger(__name__)


@functools.cache
def find_fonts(required: str = REQUIRED_CHARS) -> tuple[Path, ...]:
    """Return the installed handwriting fonts that draw every character of `required`, sorted.

    Falls back to matplotlib's bundled fonts when no handwriting font is installed.
    """
    fonts = _matching_fonts(FONT_DIRS, HANDWRITING_FONT_PATTERNS, required)
    fonts = tuple(sorted(fonts + _matching_fonts((DOWNLOADED_FONT_DIR,), ("*.woff",), required), key=_font_name))
    if not fonts:
        import matplotlib

        mpl_fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        fonts = _matching_fonts((mpl_fonts,), FALLBACK_FONT_PATTERNS, required)
        logger.warning(
            "No handwriting fonts installed (run tasks/install_system_packages.sh); using %d fallback fonts", len(fonts)
        )
    if not fonts:
        raise RuntimeError("No usable font found; install the handwriting fonts with tasks/install_system_packages.sh")
    return fonts


def _matching_fonts(dirs: tuple[Path, ...], patterns: tuple[str, ...], required: str) -> tuple[Path, ...]:
    paths = {p.resolve() for d in dirs if d.is_dir() for pattern in patterns for p in d.rglob(pattern)}
    usable = (p for p in paths if covers(p, required) and has_lowercase(p))
    return tuple(sorted(usable, key=_font_name))


def _font_name(path: Path) -> str:
    return path.name


def covers(font_path: Path, chars: str) -> bool:
    """Whether the font draws a real glyph (not blank, not the missing-glyph box) for every character."""
    font = load_font(font_path, RENDER_SIZE)
    missing = _draw(font, "\uffff")
    return all(_draw(font, c).getbbox() and _draw(font, c).tobytes() != missing.tobytes() for c in chars)


def has_lowercase(font_path: Path) -> bool:
    """Whether lowercase letters differ in shape from capitals (all-caps fonts would teach wrong labels)."""
    font = load_font(font_path, RENDER_SIZE)
    shapes = [
        [emnist_square(np.asarray(_draw(font, c), dtype=np.float32) / 255) for c in (low, low.upper())]
        for low in CASE_PROBE
    ]
    similarity = np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in shapes])
    return bool(similarity < CAPS_SIMILARITY)


def _draw(font: ImageFont.FreeTypeFont, text: str) -> Image.Image:
    canvas = Image.new("L", (RENDER_SIZE * 2, RENDER_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((0, 0), text, font=font, fill=255)
    return canvas


def fonts_fingerprint(fonts: tuple[Path, ...]) -> str:
    """Short hash of the font set, part of a synthetic dataset's version."""
    return hashlib.sha256("\n".join(p.name for p in fonts).encode()).hexdigest()[:8]


@functools.cache
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """Load a font once per (path, size)."""
    return ImageFont.truetype(str(path), size)


def render_glyph(char: str, font_path: Path, rng: np.random.Generator) -> np.ndarray:
    """Draw one character with random stroke width, slant, rotation, scale and elastic warp.

    Returns:
        float32 array, ink 1.0 on background 0.0, cropped to the ink with a small margin.
    """
    font = load_font(font_path, RENDER_SIZE)
    stroke = int(rng.integers(0, 4))
    canvas = Image.new("L", (RENDER_SIZE * 3, RENDER_SIZE * 3), 0)
    ImageDraw.Draw(canvas).text(
        (RENDER_SIZE, RENDER_SIZE // 2), char, font=font, fill=255, stroke_width=stroke, stroke_fill=255
    )
    if rng.random() < 0.2:
        canvas = canvas.filter(ImageFilter.MinFilter(3))  # Thinner strokes for some glyphs.
    shear = rng.uniform(-0.35, 0.35)
    sx, sy = rng.uniform(0.8, 1.2), rng.uniform(0.85, 1.15)
    w, h = canvas.size
    canvas = canvas.transform(
        (w, h),
        Image.Transform.AFFINE,
        (1 / sx, shear, -shear * h / 2, 0, 1 / sy, 0),
        resample=Image.Resampling.BILINEAR,
    )
    canvas = canvas.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR)
    glyph = crop_to_ink(np.asarray(canvas, dtype=np.float32) / 255.0, margin=12, threshold=0.05)
    return crop_to_ink(elastic_warp(glyph, rng), margin=2, threshold=0.1)


def elastic_warp(image: np.ndarray, rng: np.random.Generator, alpha: float = 60.0, sigma: float = 7.0) -> np.ndarray:
    """Displace pixels along a smooth random field, the way a hand wobbles along a stroke.

    The field is drawn on a grid `sigma` times coarser and interpolated up, which is smooth and cheap.
    """
    h, w = image.shape
    coarse = (max(2, int(h / sigma) + 2), max(2, int(w / sigma) + 2))
    zoom = (h / coarse[0], w / coarse[1])
    dy, dx = (ndimage.zoom(rng.uniform(-1, 1, coarse), zoom, order=3)[:h, :w] * alpha / (12 * sigma) for _ in range(2))
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return ndimage.map_coordinates(image, (rows + dy, cols + dx), order=1, mode="constant").astype(np.float32)


def render_parallel(render: Callable, tasks: Sequence, chunksize: int = 64) -> np.ndarray:
    """Stack `render(task)` over tasks, rendered by one spawned worker per CPU (safe after TensorFlow import)."""
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        return np.stack(pool.map(render, tasks, chunksize=chunksize))
