"""Render balanced, deterministic sets of synthetic handwritten characters in the EMNIST format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from text_recognizer.datasets.handwriting import render_glyph, render_parallel
from text_recognizer.preprocessing import emnist_square

SYNTHETIC_VERSION = "synth-chars-v2"
# Fonts held out for the test split, like unseen writers: one of each style (print, brush, round, cursive).
TEST_FONTS = ("ComicNeue-LightItalic", "KaushanScript-Regular", "Purisa-Oblique", "dkgBI")
TEST_SHARE = 6  # The test split has a sixth as many samples per class as the train split.


def held_out_fonts(fonts: tuple[Path, ...]) -> tuple[Path, ...]:
    """The fonts among `fonts` that `TEST_FONTS` names: test data is written in them, training data never is."""
    return tuple(f for f in fonts if f.stem in TEST_FONTS)


class MissingTestFonts(ValueError):
    """The held-out test fonts are not installed, so synthetic test data cannot be told apart from training data."""


def split_fonts(fonts: tuple[Path, ...]) -> dict[str, tuple[Path, ...]]:
    """Split fonts into disjoint train and test sets; raise MissingTestFonts when either set would be empty."""
    test = held_out_fonts(fonts)
    train = tuple(f for f in fonts if f not in test)
    if not test or not train:
        missing = "the held-out test fonts " + ", ".join(TEST_FONTS) if not test else "training fonts"
        raise MissingTestFonts(
            f"Synthetic data needs {missing}, which are not installed: run tasks/install_system_packages.sh as "
            "root (Debian packages) or make setup; test data in training fonts would overstate accuracy"
        )
    return {"train": train, "test": test}


def render_character(char: str, fonts: tuple[Path, ...], seed: tuple[int, ...]) -> np.ndarray:
    """Render one 28×28 uint8 white-on-black character; the same seed always gives the same image."""
    rng = np.random.default_rng(seed)
    glyph = render_glyph(char, fonts[rng.integers(len(fonts))], rng)
    image = Image.fromarray((glyph * 255).astype(np.uint8))
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
    square = emnist_square(np.asarray(image, dtype=np.float32) / 255.0).astype(np.float32)
    square *= rng.uniform(0.7, 1.0) / max(square.max(), 1.0) * 255.0  # Pen pressure.
    square += rng.normal(0, rng.uniform(0, 12), square.shape)  # Sensor noise.
    return np.clip(square, 0, 255).astype(np.uint8)


def _render_task(task: tuple[str, tuple[Path, ...], tuple[int, ...]]) -> np.ndarray:
    return render_character(*task)


def generate_characters(chars: str, fonts: tuple[Path, ...], per_class: int, seed: int) -> dict[str, np.ndarray]:
    """Render `per_class` training and `per_class // TEST_SHARE` test images of every character.

    Returns:
        `x_train, y_train, x_test, y_test`; labels are positions in `chars`.
    """
    arrays = {}
    font_sets = split_fonts(fonts)
    for split_id, split in enumerate(("train", "test")):
        count = per_class if split == "train" else max(1, per_class // TEST_SHARE)
        tasks = [(c, font_sets[split], (seed, split_id, k, i)) for k, c in enumerate(chars) for i in range(count)]
        arrays[f"x_{split}"] = render_parallel(_render_task, tasks, chunksize=256)
        arrays[f"y_{split}"] = np.repeat(np.arange(len(chars)), count)
    return arrays
