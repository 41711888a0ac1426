"""What the line detector sees and learns: a page scaled to the detection size, and maps of its lines (each line's
core band, and the area the lines cover). No TensorFlow or Keras."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage, signal

from text_recognizer.preprocessing import to_ink

DETECTION_SIZE = 512  # Pages are scaled so that their longer side has this many pixels, then padded square.
DENSE_PITCH = 14  # Pages whose lines lie closer than this at the detection size (pixels between baselines)...
DETECTED_PITCH = 32  # ... are detected larger, at a size that spaces their lines this far apart, as trained,
MAX_DETECTION_SIZE = 2048  # up to this size (the detector's time grows with its square).
DETECTION_MULTIPLE = 16  # The detector halves its input four times.
PITCH_STRIPS = 4  # Row profiles taken in this many vertical strips, so that a skewed page's lines stay apart.
MIN_PITCH = 8  # Shortest distance between lines, in a page's pixels, that can hold legible writing.
MIN_PROMINENCE = 0.2  # How far a page's row autocorrelation must rise from between lines to its pitch: regular lines.
PITCH_SEARCH = 1.5  # Pitches searched, as a multiple of the largest that matters.
FUNDAMENTAL_SHARE = 0.8  # The shortest lag whose peak is this near the highest is the pitch (not its multiples).
PROFILE_SMOOTHING = 2.0  # Rows (Gaussian sigma) over which a strip's row profile is smoothed to count its lines...
LINE_PROMINENCE = 0.1  # ... each line a peak rising this fraction of the profile's highest above its surroundings
LINE_DEPTH = 0.5  # and this fraction of its own height: the ink between lines thins out, scattered ink does not.
COUNT_AGREEMENT = 0.15  # A lag this close (as a fraction) to the counted distance between lines confirms it.
MIN_COUNTED_LINES = 20  # Lines a strip must count for its distances to stand: dense pages hold over 36 at 512 px.
CORE_SHRINK = 0.3  # A line's core leaves out this fraction of its height at the top and at the bottom.
MAP_NAMES = ["line core", "line area"]  # The detector's output channels.


def detection_scale(shape: tuple[int, ...], size: int = DETECTION_SIZE) -> float:
    """Factor that brings an image of `shape` (height, width) to the detection size along its longer side."""
    return size / max(shape[:2])


def resize_to_detection(
    image: np.ndarray, resample: Image.Resampling = Image.Resampling.BILINEAR, size: int = DETECTION_SIZE
) -> np.ndarray:
    """A uint8 image scaled to `size` along its longer side and padded with zeros to a square."""
    scale = detection_scale(image.shape, size)
    height, width = (max(1, round(n * scale)) for n in image.shape[:2])
    resized = np.asarray(Image.fromarray(image).resize((width, height), resample))
    square = np.zeros((size, size), dtype=np.uint8)
    square[:height, :width] = resized
    return square


def detection_input(gray: np.ndarray) -> np.ndarray:
    """A grayscale page as the detector's input: uint8 ink (255 full ink on 0), detection size, padded square."""
    return resize_to_detection(page_ink(gray))


def page_ink(gray: np.ndarray) -> np.ndarray:
    """A page's ink as uint8, 255 full ink on 0."""
    return (to_ink(gray) * 255).round().astype(np.uint8)


def page_detection_input(gray: np.ndarray) -> np.ndarray:
    """The detector's input for a page to read: at the detection size, or larger for a page of dense lines (see
    `detection_size`)."""
    ink = page_ink(gray)
    return resize_to_detection(ink, size=detection_size(ink))


def detection_size(ink: np.ndarray) -> int:
    """`DETECTION_SIZE`, or for a page whose lines would lie closer than `DENSE_PITCH` there, the size that spaces
    them `DETECTED_PITCH` apart (never above `MAX_DETECTION_SIZE`, nor above the page's own size)."""
    longest, scale = max(ink.shape[:2]), detection_scale(ink.shape)
    pitch = line_pitch(ink, int(np.ceil(DENSE_PITCH / scale)))
    if pitch is None or pitch * scale >= DENSE_PITCH:
        return DETECTION_SIZE
    wanted = int(np.ceil(DETECTED_PITCH * longest / pitch / DETECTION_MULTIPLE)) * DETECTION_MULTIPLE
    own = int(np.ceil(longest / DETECTION_MULTIPLE)) * DETECTION_MULTIPLE
    return max(DETECTION_SIZE, min(wanted, MAX_DETECTION_SIZE, own))


def line_pitch(ink: np.ndarray, most: int) -> int | None:
    """The distance between a page's lines in its pixels where it is at most about `most`, else None.

    Where lines repeat regularly, it is the first lag at which the rows' ink repeats nearly as well as it repeats best:
    the row profiles (of vertical strips, so that a skewed page's lines stay apart) lose what varies more slowly than
    lines that far apart, such as the length of the lines or a margin's notes. Where lines of unequal ink and spacing
    make every other line repeat best, the shorter lag near the lines' counted distance is the pitch (see
    `counted_pitch`), and where they repeat too irregularly for that test, the lag near the counted distance is.
    """
    height = ink.shape[0]
    longest = min(int(PITCH_SEARCH * most), height // 2 - 1)
    if longest <= MIN_PITCH:
        return None
    correlation = np.zeros(longest + 2)
    strips = np.array_split(ink.astype(np.float64), PITCH_STRIPS, axis=1)
    for strip in strips:
        profile = strip.mean(axis=1)
        profile -= ndimage.uniform_filter1d(profile, 2 * longest + 1, mode="nearest")
        spectrum = np.fft.rfft(profile, 2 * height)
        correlation += np.fft.irfft(spectrum * np.conj(spectrum))[: longest + 2]  # Strips weigh as their ink varies.
    if correlation[0] <= 0:
        return None
    correlation /= correlation[0]
    lags = np.arange(MIN_PITCH, longest + 1)
    peaks = lags[(correlation[lags] >= correlation[lags - 1]) & (correlation[lags] > correlation[lags + 1])]

    def regular(lag: int) -> bool:  # Ink repeats at `lag` far better than between lines.
        return bool(correlation[lag] - correlation[lag // 4 : lag].min() >= MIN_PROMINENCE)

    fundamental = None
    if len(peaks):
        fundamental = int(peaks[np.argmax(correlation[peaks] >= FUNDAMENTAL_SHARE * correlation[peaks].max())])
    pitch = fundamental if fundamental is not None and regular(fundamental) else None
    counted = counted_pitch(strips)
    if counted is None:
        return pitch
    near = [int(lag) for lag in peaks if abs(lag - counted) <= COUNT_AGREEMENT * counted]
    if pitch is not None:  # Only a regular shorter lag replaces a regular pitch.
        near = [lag for lag in near if lag < pitch and regular(lag)]
    return min(near, key=lambda lag: abs(lag - counted)) if near else pitch


def counted_pitch(strips: list[np.ndarray]) -> float | None:
    """The median distance between neighbouring lines in the row profile of the strip where most lines rise, or None
    where fewer than MIN_COUNTED_LINES do (a page of fewer lines is not dense)."""
    best: np.ndarray = np.zeros(0)
    for strip in strips:
        profile = ndimage.gaussian_filter1d(strip.mean(axis=1), PROFILE_SMOOTHING)
        rows, found = signal.find_peaks(profile, prominence=LINE_PROMINENCE * profile.max(), distance=MIN_PITCH)
        rows = rows[found["prominences"] >= LINE_DEPTH * profile[rows]]
        best = rows if len(rows) > len(best) else best
    return float(np.median(np.diff(best))) if len(best) >= MIN_COUNTED_LINES else None


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
