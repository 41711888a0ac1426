"""A line or page saved as people send it: a 16-bit TIFF scan, ink cut out on a transparent PNG, a phone JPEG stored
sideways with the EXIF orientation that shows it upright."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

EXIF_ORIENTATION = 0x0112
SHOWN_TURNED_CLOCKWISE = 6  # The EXIF orientation of a photo that a viewer turns 90 degrees clockwise to show.
# Turned pixels fall in other JPEG blocks; at lower qualities that alone may tip a character the model is unsure of,
# and the tests compare the turned photo's reading with the upright photo's.
JPEG_QUALITY = 100


def gray(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("L"))


def sixteen_bit_tiff(source: Path, target: Path) -> Path:
    """The 8-bit image `source` as a 16-bit grayscale TIFF (each level times 257, as a 16-bit scanner spans it)."""
    Image.fromarray(gray(source).astype(np.uint16) * 257).save(target)
    return target


def transparent_png(source: Path, target: Path) -> Path:
    """The ink of `source` (dark on light) in black on a transparent ground: opacity is the ink's darkness."""
    darkness = 255 - gray(source)
    rgba = np.zeros((*darkness.shape, 4), dtype=np.uint8)
    rgba[..., 3] = darkness
    Image.fromarray(rgba).save(target)
    return target


def exif_rotated_jpeg(source: Path, target: Path) -> Path:
    """`source` stored turned a quarter turn counter-clockwise, tagged to be shown turned back."""
    with Image.open(source) as image:
        turned = image.convert("RGB").transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = SHOWN_TURNED_CLOCKWISE
    turned.save(target, exif=exif, quality=JPEG_QUALITY)
    return target


def upright_jpeg(source: Path, target: Path) -> Path:
    """`source` as a JPEG of the same quality, upright: what the rotated one must read as."""
    with Image.open(source) as image:
        image.convert("RGB").save(target, quality=JPEG_QUALITY)
    return target
