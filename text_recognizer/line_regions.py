"""Lines from the line detector's maps: polygons and boxes in the input's pixels, top to bottom, and how found
lines match true ones. No TensorFlow or Keras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from text_recognizer.line_maps import detection_scale

THRESHOLD = 0.5  # Probability above which a pixel belongs to a map.
MIN_CORE_PIXELS = 12  # Smaller core components are specks, not lines.
MIN_LINE_SHARE = 0.1  # Lines whose core is smaller than this share of the page's median line core are fragments.
MERGE_GAP = 3.0  # Cores on one text line merge across gaps up to this many core heights (a wide word gap)...
MERGE_SHARED = 0.5  # ... when they share at least this fraction of the shorter one's rows.
CONTOUR_STEP = 4  # Columns between the points of a line's polygon, at the detection scale.
IOU_MATCH = 0.5  # A detected line matches a true one when their areas overlap at least this much (IoU).


@dataclass
class LineRegion:
    """A detected line: its polygon and box (x0, y0, x1, y1) in the input's pixels."""

    polygon: np.ndarray
    box: tuple[int, int, int, int]


def line_masks(maps: np.ndarray) -> list[np.ndarray]:
    """The detector's output (size, size, 2) probabilities as one boolean mask per line, top to bottom.

    Each core component seeds a line; cores that continue each other on one text line (a wide gap between words)
    merge, and fragments far smaller than the page's typical line are dropped; every pixel of the line area joins
    the nearest core of its connected piece, so lines whose ascenders and descenders touch are parted between
    their cores.
    """
    cores, count = ndimage.label(maps[..., 0] > THRESHOLD, structure=np.ones((3, 3)))
    sizes = ndimage.sum_labels(np.ones_like(cores), cores, np.arange(1, count + 1))
    keep = np.flatnonzero(sizes >= MIN_CORE_PIXELS) + 1
    cores = np.where(np.isin(cores, keep), cores, 0)
    cores = _merge_continued(cores, keep)
    if not cores.any():
        return []
    cores = _without_fragments(cores)
    area = (maps[..., 1] > THRESHOLD) | (cores > 0)
    pieces, _ = ndimage.label(area)
    seeded = np.unique(pieces[cores > 0])
    area &= np.isin(pieces, seeded)
    nearest = ndimage.distance_transform_edt(cores == 0, return_distances=False, return_indices=True)
    owner = cores[nearest[0], nearest[1]] * area  # Each area pixel's nearest core.
    labels = [k for k in np.unique(cores) if k]
    order = sorted(labels, key=lambda k: ndimage.center_of_mass(cores == k)[0])
    return [owner == k for k in order]


def _merge_continued(cores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Relabel cores so that pieces of one text line, side by side at much the same height, share a label.

    Pieces of neighbouring lines overlap horizontally by far more than `MERGE_GAP` core heights, or share no rows.
    """
    objects = ndimage.find_objects(cores)
    heights = {k: _mean_height(cores[objects[k - 1]] == k) for k in labels}
    parent = {k: k for k in labels}

    def root(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    for a in labels:
        for b in labels:
            if a >= b:
                continue
            (rows_a, columns_a), (rows_b, columns_b) = objects[a - 1], objects[b - 1]
            gap = max(columns_a.start, columns_b.start) - min(columns_a.stop, columns_b.stop)  # < 0: overlap.
            shared = min(rows_a.stop, rows_b.stop) - max(rows_a.start, rows_b.start)
            lower = min(rows_a.stop - rows_a.start, rows_b.stop - rows_b.start)
            if abs(gap) <= MERGE_GAP * max(heights[a], heights[b]) and shared >= MERGE_SHARED * lower:
                parent[root(b)] = root(a)
    lookup = np.zeros(cores.max() + 1, dtype=cores.dtype)
    for k in labels:
        lookup[k] = root(k)
    return lookup[cores]


def _without_fragments(cores: np.ndarray) -> np.ndarray:
    """Cores without those far smaller than the page's typical line (a stray stroke, a descender's loop)."""
    labels, sizes = np.unique(cores[cores > 0], return_counts=True)
    fragments = labels[sizes < MIN_LINE_SHARE * np.median(sizes)]
    return np.where(np.isin(cores, fragments), 0, cores)


def _mean_height(mask: np.ndarray) -> float:
    """A core's mean height over its columns."""
    counts = mask.sum(axis=0)
    return float(counts[counts > 0].mean())


def mask_polygon(mask: np.ndarray) -> np.ndarray:
    """A line mask's outline as a polygon: its top edge left to right, then its bottom edge back (x, y points)."""
    columns = np.flatnonzero(mask.any(axis=0))
    samples = np.unique(np.r_[columns[::CONTOUR_STEP], columns[-1]])
    part = mask[:, samples]
    top = part.argmax(axis=0)
    bottom = len(part) - part[::-1].argmax(axis=0)  # One past the last row.
    upper = np.stack([samples, top], axis=1)
    lower = np.stack([samples + 1, bottom], axis=1)[::-1]
    return np.concatenate([upper, lower]).astype(np.float64)


def line_regions_of_maps(maps: np.ndarray, image_shape: tuple[int, ...]) -> list[LineRegion]:
    """The lines of the detector's output (at any detection size), as polygons and boxes in the pixels of an image
    of `image_shape`."""
    scale = detection_scale(image_shape, len(maps))
    height, width = image_shape[:2]
    found = []
    for mask in line_masks(maps):
        polygon = np.clip(mask_polygon(mask) / scale, 0, [width, height])
        x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
        x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
        found.append(LineRegion(polygon, (int(x0), int(y0), int(x1), int(y1))))
    return found


def match_lines(found: list[np.ndarray], true: list[np.ndarray]) -> int:
    """How many found lines match a true one at IoU ≥ `IOU_MATCH`, each true line matched at most once: the lines are
    polygons ((n, 2) x, y points) in a page's own pixels, and each pair whose boxes meet is drawn within the box
    around both, so that pages of any size and line count are scored at full resolution."""
    pairs = []
    for i, a in enumerate(found):
        for j, b in enumerate(true):
            (a_low, a_high), (b_low, b_high) = (a.min(axis=0), a.max(axis=0)), (b.min(axis=0), b.max(axis=0))
            if (a_low > b_high).any() or (b_low > a_high).any():
                continue  # Boxes apart: no overlap.
            low = np.floor(np.minimum(a_low, b_low)).astype(int)
            high = np.ceil(np.maximum(a_high, b_high)).astype(int) + 1
            mask_a, mask_b = (_drawn(polygon - low, high - low) for polygon in (a, b))
            inter = np.count_nonzero(mask_a & mask_b)
            if inter:
                pairs.append((float(inter / np.count_nonzero(mask_a | mask_b)), i, j))
    return _matched(pairs)


def _drawn(polygon: np.ndarray, size: np.ndarray) -> np.ndarray:
    mask = Image.new("1", (int(size[0]), int(size[1])), 0)
    ImageDraw.Draw(mask).polygon([(float(x), float(y)) for x, y in polygon], fill=1, outline=1)
    return np.asarray(mask)


def _matched(pairs: list[tuple[float, int, int]]) -> int:
    """Matches made greedily from the highest IoU down, each line at most once, at IoU ≥ `IOU_MATCH`."""
    used_found, used_true = set(), set()
    for iou, i, j in sorted(pairs, reverse=True):
        if iou >= IOU_MATCH and i not in used_found and j not in used_true:
            used_found.add(i)
            used_true.add(j)
    return len(used_found)
