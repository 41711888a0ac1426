"""Weighted line augmentations (`dataset_args.augment`): each training line gets one transform, drawn by weight.

`{"none": 4, "rot": 1, "mb": 1}` leaves 4 lines in 6 as they are and rotates or motion-blurs the others. Codes:

- mb: motion blur; gb: Gaussian blur; ds: downsizing (scanned small, scaled back up);
- rot: rotation; 3d: 3-D rotation (perspective); warp: elastic warp;
- sh: shading (uneven light); br: brightness and contrast; sp: salt-and-pepper noise;
- cut: cut-out patches; pad: padding (the line shrunk within its frame); tb: top or bottom rows cut off.

Lines are white ink on black, as the networks read them; transforms fill with black. Only training batches are
augmented, each from a generator seeded by the run's seed, the epoch and the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CODES = ("none", "mb", "gb", "ds", "rot", "3d", "warp", "sh", "br", "sp", "cut", "pad", "tb")
MAX_TOP_BOTTOM_CUT = 0.2  # Most of a line's height that "tb" removes.


def _transforms() -> dict[str, Any]:
    """One albumentations transform per code (imported on first use: only training needs it)."""
    import albumentations as A
    import cv2

    black = {"border_mode": cv2.BORDER_CONSTANT, "fill": 0}
    return {
        "mb": A.MotionBlur(blur_limit=(3, 7), p=1),
        "gb": A.GaussianBlur(sigma_limit=(0.5, 1.5), p=1),
        "ds": A.Downscale(scale_range=(0.4, 0.8), p=1),
        "rot": A.Rotate(limit=3, **black, p=1),
        "3d": A.Perspective(scale=(0.02, 0.06), **black, p=1),
        "warp": A.ElasticTransform(alpha=8, sigma=4, **black, p=1),
        "sh": A.Illumination(mode="linear", intensity_range=(0.1, 0.2), p=1),
        "br": A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.3, p=1),
        "sp": A.SaltAndPepper(amount=(0.005, 0.02), p=1),
        "cut": A.CoarseDropout(
            num_holes_range=(1, 3), hole_height_range=(0.2, 0.5), hole_width_range=(0.01, 0.04), p=1
        ),
        "pad": A.Affine(scale=(0.75, 0.95), keep_ratio=True, **black, p=1),
    }


def check_table(table: dict[str, Any]) -> dict[str, float]:
    """Validate an augmentation table, raising ValueError that lists the codes."""
    if not isinstance(table, dict) or not table:
        raise ValueError(f'dataset_args.augment must map codes to weights, e.g. {{"none": 3, "rot": 1}}; got {table}')
    for code, weight in table.items():
        if code not in CODES:
            raise ValueError(f"Unknown augmentation {code!r}; codes: {', '.join(CODES)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ValueError(f"Augmentation weight of {code!r} must be a non-negative number, got {weight!r}")
    if sum(table.values()) <= 0:
        raise ValueError("dataset_args.augment needs a positive weight")
    return {code: float(weight) for code, weight in table.items()}


class Augmenter:
    """Applies a weighted augmentation table to batches of lines."""

    def __init__(self, table: dict[str, Any]) -> None:
        self.table = check_table(table)
        self.codes = list(self.table)
        weights = np.array([self.table[code] for code in self.codes])
        self.probabilities = weights / weights.sum()
        self.transforms = _transforms()

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augment each line of `x` (batch, height, width; 0-255 ink) with a transform drawn from the table."""
        picks = rng.choice(len(self.codes), size=len(x), p=self.probabilities)
        for row, pick in enumerate(picks):
            x[row] = self.apply(self.codes[pick], x[row], rng)
        return x

    def apply(self, code: str, line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One line through the transform of `code`, its randomness drawn from `rng`."""
        if code == "none":
            return line
        if code == "tb":
            return cut_top_or_bottom(line, rng)
        transform = self.transforms[code]
        transform.set_random_seed(int(rng.integers(2**31)))
        image = np.clip(line, 0, 255).astype(np.uint8)
        return transform(image=image)["image"].astype(line.dtype)


def cut_top_or_bottom(line: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Blank the top or the bottom rows of the line's ink, as a tight crop of a real line does."""
    rows = np.flatnonzero(line.max(axis=1) > 0)
    if len(rows) < 2:
        return line
    cut = int(rng.integers(1, max(2, int(MAX_TOP_BOTTOM_CUT * (rows[-1] - rows[0] + 1)) + 1)))
    line = line.copy()
    if rng.random() < 0.5:
        line[: rows[0] + cut] = 0
    else:
        line[rows[-1] + 1 - cut :] = 0
    return line
