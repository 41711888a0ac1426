"""Write the generated support images the prediction tests read (run once; the PNGs are committed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from text_recognizer.datasets.handwriting import find_fonts, render_glyph
from text_recognizer.datasets.synthetic_characters import split_fonts
from text_recognizer.datasets.synthetic_lines import render_photo
from text_recognizer.preprocessing import character_input, crop_to_ink, load_image, to_ink

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


def write_page() -> None:
    """Set the support lines one under another on a page (`pages/five_lines.png`, its text in `five_lines.txt`)."""
    inks = [crop_to_ink(to_ink(load_image(SUPPORT_DIR / "lines" / f"{text}.png")), margin=2) for text in LINES]
    pitch = max(ink.shape[0] for ink in inks) + 6  # Neighbouring lines' ascenders and descenders come close.
    page = np.zeros((60 + pitch * len(inks), 80 + max(ink.shape[1] for ink in inks) + 40), dtype=np.float32)
    for k, ink in enumerate(inks):
        x, y = 40 + 15 * (k % 3), 30 + pitch * k  # Ragged left edge.
        page[y : y + ink.shape[0], x : x + ink.shape[1]] = ink
    (SUPPORT_DIR / "pages").mkdir(exist_ok=True)
    Image.fromarray(np.clip(238 - page * 200, 0, 255).astype(np.uint8)).save(SUPPORT_DIR / "pages" / "five_lines.png")
    (SUPPORT_DIR / "pages" / "five_lines.txt").write_text("\n".join(LINES) + "\n")


def main() -> None:
    """Render each character on paper (dark ink), and the same glyph in the EMNIST format (28×28, white on black);
    then the support lines, and a page of them."""
    rng = np.random.default_rng(SEED)
    test_fonts = split_fonts(find_fonts())["test"]
    for folder in ("paper", "emnist_style"):
        (SUPPORT_DIR / "characters" / folder).mkdir(parents=True, exist_ok=True)
    for char in CHARACTERS:
        photo = on_paper(char, test_fonts, rng)
        photo.save(SUPPORT_DIR / "characters" / "paper" / f"{char}.png")
        Image.fromarray(character_input(photo)).save(SUPPORT_DIR / "characters" / "emnist_style" / f"{char}.png")
    write_lines(test_fonts, rng)
    write_page()


if __name__ == "__main__":
    main()
