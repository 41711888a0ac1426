"""Image preprocessing shared by dataset generation, predictors, export and the API (numpy and Pillow only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from text_recognizer.line_codec import WIDTH_MULTIPLE

ImageInput = str | Path | Image.Image | np.ndarray

MAX_PIXELS = 40_000_000  # Refuse larger images (decompression bombs) with a clear error.
LUMA = (0.299, 0.587, 0.114)  # Gray from RGB, as Pillow's convert("L") weighs it (ITU-R 601-2).
INK_THRESHOLD = 0.25  # Fraction of full ink above which a pixel counts as ink when cropping.
EMNIST_SIZE = 28
EMNIST_GLYPH = 24  # EMNIST glyphs fill 24 of 28 pixels along their longest side, centred.
LINE_MARGIN = 0.08  # Margin around a line's ink, as a fraction of the ink height.
MAX_LINE_ASPECT = 200  # Lines wider than this many heights are squeezed (bounds the work a huge image costs).
MIN_INK_CONTRAST = 24.0  # Gray levels by which ink must differ from the paper; paper grain stays below.
MIN_INK_FRACTION = 0.0005  # An image with fewer ink pixels than this (and than 4) has no ink at all.
EDGE_BAND_COVERAGE = 0.95  # A left or right side inked along (nearly) all its height is a page edge or shadow.
EDGE_BAND_HALO = 2  # Columns past an edge band cleared with it (its soft, fainter border).


def load_image(image: ImageInput) -> np.ndarray:
    """Turn a path, PIL image or array into a uint8 grayscale H×W array (0 black, 255 white).

    Values are read by type, never guessed from the picture: PIL modes as Pillow defines them, 16-bit images over
    0-65535; arrays by dtype (see `_array_to_gray`). An image's EXIF orientation is applied, and transparent pixels
    become paper that contrasts with what is drawn on them (dark ink cut out on a transparent ground reads as ink).
    """
    if isinstance(image, (str, Path)):
        image = open_image(image)
    if isinstance(image, Image.Image):
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"The image of {image.width}x{image.height} pixels is larger than {MAX_PIXELS} pixels")
        return _array_to_gray(_pil_to_array(ImageOps.exif_transpose(image)))
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Expected a path, PIL image or numpy array, got {type(image).__name__}")
    return _array_to_gray(image)


def open_image(source: str | Path | BinaryIO) -> Image.Image:
    """Open and fully decode an image file or stream, raising ValueError for missing, corrupt or oversized ones."""
    name = source if isinstance(source, (str, Path)) else "the data"
    try:
        with Image.open(source) as im:
            if im.width * im.height > MAX_PIXELS or min(im.size) < 1:
                raise ValueError(
                    f"Image {name} of {im.width}x{im.height} pixels exceeds {MAX_PIXELS} pixels or is empty"
                )
            im.load()
            return im.copy()
    except FileNotFoundError as e:
        raise ValueError(f"No image file at {name}") from e
    except UnidentifiedImageError as e:
        raise ValueError(
            f"Cannot read {name} as an image: it is in no format Pillow reads (PNG, JPEG, TIFF, ...)"
        ) from e
    except (OSError, Image.DecompressionBombError, SyntaxError) as e:
        reason = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "it", str(e))  # No Python object in a user's message.
        raise ValueError(f"Cannot read {name} as an image: {reason}") from e


def _pil_to_array(image: Image.Image) -> np.ndarray:
    """The image as an array `_array_to_gray` reads: 8 bits per channel, except 16- and 32-bit integer and float
    grayscale, which keep their values; alpha, where the image has any transparency, as the last channel."""
    if image.mode.startswith("I;16"):
        return np.asarray(image).astype(np.uint16)  # Native byte order.
    if image.mode in ("I", "F", "L", "1"):  # Mode 1 comes as bool.
        return np.asarray(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    if image.mode != "RGBA":
        return np.asarray(image.convert("RGB"))
    return np.asarray(image)


def _array_to_gray(array: np.ndarray) -> np.ndarray:
    """Gray levels of an H×W, H×W×1, H×W×2 (gray, alpha), H×W×3 (RGB) or H×W×4 (RGBA) array, by dtype: bool
    False black and True white; uint8 0-255; uint16 0-65535; other integers 0-255, or 0-65535 where a value
    exceeds 255 (Pillow's 32-bit mode holds 16-bit files); floats 0-1, or 0-255 where a value exceeds 1."""
    alpha = None
    if array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        channels = array.shape[2]
        if channels in (2, 4):
            array, alpha = array[..., :-1], array[..., -1]
        array = array[..., 0] if channels <= 2 else array
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 3)) or array.size == 0:
        raise ValueError(f"Expected an H×W or H×W×C image array (C from 1 to 4), got shape {array.shape}")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ValueError(f"The image of {array.shape[1]}x{array.shape[0]} pixels is larger than {MAX_PIXELS} pixels")
    if array.dtype.kind not in "buif":
        raise ValueError(f"Expected an image array of booleans, integers or floats, got dtype {array.dtype}")
    scale = _full_scale(array)
    gray = array.astype(np.float32) / scale
    if gray.ndim == 3:
        gray = gray @ np.asarray(LUMA, dtype=np.float32)
    if not np.isfinite(gray).all():
        raise ValueError("The image array contains NaN or infinite values")
    gray = np.clip(gray, 0.0, 1.0)
    if alpha is not None:
        opacity = np.clip(alpha.astype(np.float32) / _full_scale(alpha), 0.0, 1.0)
        drawn = float((gray * opacity).sum() / max(float(opacity.sum()), 1e-6))
        paper = 1.0 if drawn < 0.5 else 0.0  # Whatever is drawn stands out from the paper the transparency becomes.
        gray = gray * opacity + paper * (1.0 - opacity)
    return np.round(gray * 255.0).astype(np.uint8)


def _full_scale(array: np.ndarray) -> float:
    """The value that stands for white in an array of this dtype (see `_array_to_gray`)."""
    kind, size = array.dtype.kind, array.dtype.itemsize
    if kind == "b":
        return 1.0
    if kind == "u" and size <= 2:
        return 255.0 if size == 1 else 65535.0
    finite = array[np.isfinite(array)] if kind == "f" else array
    largest = float(finite.max()) if finite.size else 0.0
    if kind == "f":
        return 255.0 if largest > 1.0 else 1.0
    return 65535.0 if largest > 255 else 255.0


def to_ink(gray: np.ndarray) -> np.ndarray:
    """Map a grayscale image of either polarity to float32 ink in [0, 1] on a 0 background.

    The background is a plane fitted to the border pixels (so a lighting gradient is removed); light
    backgrounds (paper) are inverted. Dark bands along the left or right side (page edges, scanner shadows)
    are not ink: the paper is fitted again without them. An image with (almost) nothing darker than the paper
    by MIN_INK_CONTRAST gray levels has no ink and maps to zeros.
    """
    image = gray.astype(np.float32)
    ink = _ink_over_paper(image)
    left, right = _edge_bands(ink)
    if left or right:
        stop = ink.shape[1] - right
        ink = np.zeros_like(ink)
        if left < stop:
            ink[:, left:stop] = _ink_over_paper(image[:, left:stop])
    if np.count_nonzero(ink >= MIN_INK_CONTRAST) < max(4, MIN_INK_FRACTION * ink.size):
        return np.zeros_like(ink)  # Blank paper: grain and noise are not ink.
    peak = float(np.percentile(ink, 99.5)) if ink.size > 400 else float(ink.max())
    peak = max(peak, float(ink.max()) * 0.5, 1.0)
    return np.clip(ink / peak, 0.0, 1.0)


def _ink_over_paper(image: np.ndarray) -> np.ndarray:
    """Gray levels by which each pixel is inkier than the background plane, either polarity."""
    background = _border_plane(image)
    if float(background.mean()) > 127:  # A plane's mean is its median.
        image, background = 255.0 - image, 255.0 - background
    return np.clip(image - background, 0, None)


def _edge_bands(ink: np.ndarray) -> tuple[int, int]:
    """Columns of dark bands along the left and right sides, each with `EDGE_BAND_HALO` columns of its border.

    Writing touches a side of a tight crop at a few points; a band inks (nearly) all of the side's height
    (`EDGE_BAND_COVERAGE`) and reaches inwards while columns stay at least half as inked.
    """
    inked = (ink >= MIN_INK_CONTRAST).mean(axis=0)  # Fraction of each column's rows that hold ink.
    return _band_width(inked), _band_width(inked[::-1])


def _band_width(coverage: np.ndarray) -> int:
    """Columns of the band that starts at `coverage[0]` (0: none), with its halo."""
    if coverage[0] < EDGE_BAND_COVERAGE:
        return 0
    ends = np.flatnonzero(coverage < EDGE_BAND_COVERAGE / 2)
    return int(ends[0] if ends.size else coverage.size) + EDGE_BAND_HALO


def _border_plane(image: np.ndarray) -> np.ndarray:
    """Least-squares plane through the border pixels, evaluated over the image.

    About the image centre the border is symmetric, so the plane's three terms (mean, row slope, column slope)
    are uncorrelated over it and each is fitted on its own.
    """
    h, w = image.shape
    border = np.ones((h, w), dtype=bool)
    border[1:-1, 1:-1] = False
    rows, cols = np.nonzero(border)
    values = image[rows, cols].astype(np.float64)
    row_offsets, col_offsets = np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2
    row_slope, col_slope = _slope(row_offsets[rows], values), _slope(col_offsets[cols], values)
    return (values.mean() + row_slope * row_offsets[:, None] + col_slope * col_offsets).astype(np.float32)


def _slope(offsets: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of `values` against centred `offsets` (0 when the offsets do not vary)."""
    spread = float(offsets @ offsets)
    return float(offsets @ values) / spread if spread else 0.0


def ink_bbox(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """Return (row0, row1, col0, col1), end-exclusive, of pixels above `threshold`, or None for a blank image."""
    mask = ink > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def crop_to_ink(ink: np.ndarray, margin: int = 0, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """Crop to the ink's bounding box plus `margin` pixels; a blank image becomes a 1×1 zero array."""
    box = ink_bbox(ink, threshold)
    if box is None:
        return np.zeros((1, 1), dtype=np.float32)
    r0, r1, c0, c1 = box
    return ink[max(r0 - margin, 0) : r1 + margin, max(c0 - margin, 0) : c1 + margin]


def emnist_square(ink: np.ndarray) -> np.ndarray:
    """Centre the ink in a square and scale it EMNIST-style: longest side 24 px in a 28×28 uint8 image."""
    glyph = crop_to_ink(ink)
    h, w = glyph.shape
    scale = EMNIST_GLYPH / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = Image.fromarray((glyph * 255).astype(np.uint8)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    out = np.zeros((EMNIST_SIZE, EMNIST_SIZE), dtype=np.uint8)
    top, left = (EMNIST_SIZE - new_h) // 2, (EMNIST_SIZE - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.asarray(resized)
    return out


def character_input(image: ImageInput) -> np.ndarray:
    """Preprocess any character image into the 28×28 uint8 white-on-black EMNIST format."""
    return emnist_square(to_ink(load_image(image)))


def round_up(n: int, multiple: int) -> int:
    """The smallest multiple of `multiple` that is at least `n`."""
    return -(-n // multiple) * multiple


def fit_line(gray: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """Crop a line image to its ink and scale it to `height`, keeping the aspect ratio, ink white on black.

    Args:
        gray: uint8 grayscale line, either polarity.
        height: output height in pixels.
        width: pad (or, for overlong lines, squeeze) to this width; None keeps the natural width (at most
            MAX_LINE_ASPECT heights), rounded up to a multiple of WIDTH_MULTIPLE.

    Returns:
        uint8 (height, width) array, text left-aligned.
    """
    ink = crop_to_ink(to_ink(gray))
    margin = max(1, round(ink.shape[0] * LINE_MARGIN))
    ink = np.pad(ink, ((margin, margin), (margin, margin)))
    new_w = min(max(1, round(ink.shape[1] * height / ink.shape[0])), height * MAX_LINE_ASPECT)
    if width is not None:
        new_w = min(new_w, width)
    out_w = width if width is not None else round_up(new_w, WIDTH_MULTIPLE)
    scaled = Image.fromarray((ink * 255).astype(np.uint8)).resize((new_w, height), Image.Resampling.BILINEAR)
    out = np.zeros((height, out_w), dtype=np.uint8)
    out[:, :new_w] = np.asarray(scaled)
    return out


def ink_widths(x: np.ndarray) -> np.ndarray:
    """Columns up to and including each line's last ink column (lines are left-aligned on zero padding)."""
    inked = x.max(axis=1) > 0  # (batch, width)
    return np.where(inked.any(axis=1), x.shape[-1] - np.argmax(inked[:, ::-1], axis=1), 0)


def line_input(image: ImageInput, height: int, width: int | None = None) -> np.ndarray:
    """Preprocess any line image (path, PIL, array; either polarity) into the line network's input."""
    return fit_line(load_image(image), height, width)


def cut_line(page: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """The polygon's bounding box of a grayscale page, with everything outside the polygon painted as paper.

    The paper's level is the median of the box, so neighbouring lines' ascenders and descenders that reach into
    the box vanish and the line keeps its own ink only.
    """
    height, width = page.shape
    x0, y0 = np.clip(np.floor(polygon.min(axis=0)).astype(int), 0, [width - 1, height - 1])
    x1, y1 = np.clip(np.ceil(polygon.max(axis=0)).astype(int) + 1, [x0 + 1, y0 + 1], [width, height])
    box = page[y0:y1, x0:x1]
    mask = Image.new("1", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(mask).polygon([(float(x - x0), float(y - y0)) for x, y in polygon], fill=1, outline=1)
    paper = np.uint8(np.median(box))
    return np.where(np.asarray(mask), box, paper)
