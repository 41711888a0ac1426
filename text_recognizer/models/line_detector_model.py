"""Line detection: a network maps a page to line-core and line-area probabilities, trained per pixel."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from text_recognizer.line_regions import line_regions_of_maps, match_lines
from text_recognizer.models.base import Model

CROP = 256  # Training batches are random crops of this side (the network is fully convolutional).
CONTRAST = (0.5, 1.2)  # Training pages' ink is scaled by a factor from this range.
FLIP_PROBABILITY = 0.5  # Training crops mirrored left to right, with their maps.
PREDICT_BATCH = 8


class LineDetectorModel(Model):
    """Finds the lines of a page: binary cross-entropy on each map, lines scored by IoU-matching.

    `evaluate` reports what a user sees: line precision and recall (a found line matches a true one at
    IoU ≥ 0.5) and the share of pages whose line count is exact.
    """

    preprocessing = "detection_input"

    def loss(self) -> Any:
        """Per-pixel binary cross-entropy on every map."""
        return keras.losses.BinaryCrossentropy()

    def metrics(self) -> list[Any]:
        """Pixel IoU of the thresholded maps with the true ones."""
        return [keras.metrics.BinaryIoU(target_class_ids=[1], name="iou")]

    def format_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add the channel axis; maps as float."""
        return x[..., None].astype(np.float32), y.astype(np.float32)

    def augment_batch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The same random crop and mirror of page and maps, within the inked part of each page; ink contrast."""
        xs, ys = [], []
        for page, maps in zip(x, y, strict=True):
            rows, columns = np.flatnonzero(page.any(axis=1)), np.flatnonzero(page.any(axis=0))
            bottom = rows[-1] + 1 if len(rows) else CROP
            right = columns[-1] + 1 if len(columns) else CROP
            top = int(rng.integers(0, max(0, min(bottom, len(page)) - CROP) + 1))
            left = int(rng.integers(0, max(0, min(right, page.shape[1]) - CROP) + 1))
            crop, crop_maps = page[top : top + CROP, left : left + CROP], maps[top : top + CROP, left : left + CROP]
            if rng.random() < FLIP_PROBABILITY:
                crop, crop_maps = crop[:, ::-1], crop_maps[:, ::-1]
            xs.append(np.clip(crop * rng.uniform(*CONTRAST), 0, 255))
            ys.append(crop_maps)
        return np.stack(xs), np.stack(ys)

    def predict_maps(self, x: np.ndarray) -> np.ndarray:
        """The network's maps for uint8 pages (n, size, size)."""
        return np.concatenate(
            [self.network.predict_on_batch(x[i : i + PREDICT_BATCH, ..., None].astype(np.float32))
             for i in range(0, len(x), PREDICT_BATCH)]
        )  # fmt: skip

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = PREDICT_BATCH) -> dict[str, float]:
        """Line precision and recall at IoU ≥ 0.5 and the share of pages with the right line count."""
        found = true = matched = exact = 0
        for maps, truth in zip(self.predict_maps(x), y, strict=True):
            found_lines, true_lines = line_polygons(maps), line_polygons(truth.astype(np.float32))
            found, true = found + len(found_lines), true + len(true_lines)
            matched += match_lines(found_lines, true_lines)  # As the page evaluation scores a recognizer's lines.
            exact += len(found_lines) == len(true_lines)
        return {
            "line_precision": matched / max(1, found),
            "line_recall": matched / max(1, true),
            "line_count_exact": exact / max(1, len(x)),
        }


def line_polygons(maps: np.ndarray) -> list[np.ndarray]:
    """The outlines of the lines of a pair of maps, in the maps' pixels."""
    return [region.polygon for region in line_regions_of_maps(maps, maps.shape[:2])]
