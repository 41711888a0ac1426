"""What the line detector sees and learns: a page scaled to the detection size, and maps of its lines (each line's
core band, and the area the lines cover). No TensorFlow or Keras."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from text_recognizer.preprocessing import to_ink

DETECTION_SIZE = 512  # Pages are scaled so that their longer side has this many pixels, then padded square.
CORE_SHRINK = 0.3  # A line's core leaves out this fraction of its height at the top and at the bottom.
MAP_NAMES = ["line core", "line area"]  # The detector's output channels.


def detection_scale(shape: tuple[int, ...]) -> float:
    """Factor that brings an image of `shape` (height, width) to the detection size along its longer side."""
    return DETECTION_SIZE / max(shape[:2])


def resize_to_detection(image: np.ndarray, resample: Image.Resampling = Image.Resampling.BILINEAR) -> np.ndarray:
    """A uint8 image scaled to the detection size along its longer side and padded with zeros to a square."""
    scale = detection_scale(image.shape)
    height, width = (max(1, round(n * scale)) for n in image.shape[:2])
    resized = np.asarray(Image.fromarray(image).resize((width, height), resample))
    square = np.zeros((DETECTION_SIZE, DETECTION_SIZE), dtype=np.uint8)
    square[:height, :width] = resized
    return square


def detection_input(gray: np.ndarray) -> np.ndarray:
    """A grayscale page as the detector's input: uint8 ink (255 full ink on 0), detection size, padded square."""
    return resize_to_detection((to_ink(gray) * 255).round().astype(np.uint8))


def polygon_mask(polygon: np.ndarray, size: int = DETECTION_SIZE) -> np.ndarray:
    """Boolean size×size mask of a polygon given in detection pixels."""
    mask = Image.new("1", (size, size), 0)
    ImageDraw.Draw(mask).polygon([(float(x), float(y)) for x, y in polygon], fill=1, outline=1)
    return np.asarray(mask)


def core_band(mask: np.ndarray) -> np.ndarray:
    """The middle rows of a line's mask in every column: its height less `CORE_SHRINK` at top and bottom."""
    columns = np.flatnonzero(mask.any(axis=0))
    core = np.zeros_like(mask)
    if len(columns) == 0:
        return core
    part = mask[:, columns]
    top = part.argmax(axis=0)
    bottom = len(part) - 1 - part[::-1].argmax(axis=0)
    cut = np.floor((bottom - top + 1) * CORE_SHRINK).astype(int)
    rows = np.arange(len(mask))[:, None]
    core[:, columns] = (rows >= top + cut) & (rows <= np.maximum(top + cut, bottom - cut))
    return core


def line_maps(polygons: list[np.ndarray]) -> np.ndarray:
    """The detector's target for lines given as polygons in detection pixels: uint8 (size, size, 2), 0 or 1."""
    maps = np.zeros((DETECTION_SIZE, DETECTION_SIZE, len(MAP_NAMES)), dtype=np.uint8)
    for polygon in polygons:
        mask = polygon_mask(polygon)
        maps[..., 0] |= core_band(mask)
        maps[..., 1] |= mask
    return maps
