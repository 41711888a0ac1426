"""Write the generated support images the prediction tests read (run once; the PNGs are committed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from text_recognizer.datasets.handwriting import find_fonts, render_glyph
from text_recognizer.datasets.synthetic_characters import split_fonts
from text_recognizer.datasets.synthetic_lines import render_photo
from text_recognizer.preprocessing import character_input

SUPPORT_DIR = Path(__file__).resolve().parent
# Characters whose shape differs from every other class, so the expected answer is unambiguous.
CHARACTERS = "AbdGhQR37e"
SEED = 2024
# Lines covering capitals, digits and punctuation; each file's name is its text.
LINES = (
    "The quick brown fox",
    "Meeting at 10 today",
    "Paris, London and Laos",
    "He said it was good.",
    "jazz quiz box 42",
)


def on_paper(char: str, fonts: tuple[Path, ...], rng: np.random.Generator) -> Image.Image:
    """Dark ink on light, slightly noisy paper, as a photo or scan would show it (RGB, larger than 28 px)."""
    glyph = render_glyph(char, fonts[rng.integers(len(fonts))], rng)  # Ink 1.0 on 0.0.
    h, w = glyph.shape
    page = np.full((h + 60, w + 80), 0.0, dtype=np.float32)
    page[30 : 30 + h, 40 : 40 + w] = glyph
    gray = 235 - page * 190 + rng.normal(0, 4, page.shape)
    return Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).convert("RGB")


def write_lines(fonts: tuple[Path, ...], rng: np.random.Generator) -> None:
    """Render each line as a photo would show it: dark ink on paper, at the renderer's natural size."""
    (SUPPORT_DIR / "lines").mkdir(exist_ok=True)
    for text in LINES:
        Image.fromarray(render_photo(text, fonts, rng)).save(SUPPORT_DIR / "lines" / f"{text}.png")


def main() -> None:
    """Render each character on paper (dark ink), and the same glyph in the EMNIST format (28×28, white on black);
    then the support lines."""
    rng = np.random.default_rng(SEED)
    test_fonts = split_fonts(find_fonts())["test"]
    for folder in ("paper", "emnist_style"):
        (SUPPORT_DIR / "characters" / folder).mkdir(parents=True, exist_ok=True)
    for char in CHARACTERS:
        photo = on_paper(char, test_fonts, rng)
        photo.save(SUPPORT_DIR / "characters" / "paper" / f"{char}.png")
        Image.fromarray(character_input(photo)).save(SUPPORT_DIR / "characters" / "emnist_style" / f"{char}.png")
    write_lines(test_fonts, rng)


if __name__ == "__main__":
    main()
