"""Cut a page of handwritten text into its lines, named by its transcript, for the line evaluations' `--dir`.

    python -m evaluation.page_lines PAGE TRANSCRIPT OUT_DIR

TRANSCRIPT holds the page's text, one line per written line. Each line is saved as `OUT_DIR/<its text>.png`, the
full width of the page, so `evaluate_line_predictor.py --dir OUT_DIR` and `benchmark_line_recognizer.py --dir
OUT_DIR` read real pages (such as IAM forms) line by line. Lines are cut at the emptiest rows of the page's ink
profile near where evenly spaced lines would part, which suits a page of evenly written lines.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from text_recognizer.datasets.line_folder_dataset import names_a_file
from text_recognizer.preprocessing import INK_THRESHOLD, load_image, to_ink

MIN_ROW_INK = 0.05  # Rows with less ink than this fraction of the inkiest row's lie outside the text.


def line_bounds(ink: np.ndarray, count: int) -> list[tuple[int, int]]:
    """Row ranges (start, end-exclusive) of the `count` text lines of a page's ink, top to bottom.

    Columns inked in most rows (a scanner's dark edge, a ruled margin) are not text, and the text spans the rows
    with at least `MIN_ROW_INK` of the inkiest row's ink, with the inked rows that adjoin them (not specks apart).
    """
    mask = ink > INK_THRESHOLD
    mask[:, mask.mean(axis=0) > 0.5] = False
    rows = mask.sum(axis=1).astype(np.float64)
    text_rows = np.flatnonzero(rows > MIN_ROW_INK * rows.max())
    if len(text_rows) == 0:
        raise ValueError("The page has no ink")
    top, bottom = int(text_rows[0]), int(text_rows[-1]) + 1
    while top > 0 and rows[top - 1]:  # Take in the ascenders and descenders beyond the inkiest rows.
        top -= 1
    while bottom < len(rows) and rows[bottom]:
        bottom += 1
    pitch = (bottom - top) / count
    if pitch < 4:
        raise ValueError(f"The page's ink is {bottom - top} rows high: too little for {count} lines")
    profile = ndimage.uniform_filter1d(rows, size=max(3, round(pitch / 4)))
    cuts = [top]
    for k in range(1, count):
        lo = max(round(top + (k - 0.5) * pitch), cuts[-1] + round(pitch / 3))
        hi = max(round(top + (k + 0.5) * pitch), lo + 1)
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    cuts.append(bottom)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def save_lines(page: Path, transcript: Path, out_dir: Path) -> list[Path]:
    """Save each line of `page` as `out_dir/<text>.png`, its text from `transcript`; return the paths."""
    texts = [line.strip() for line in transcript.read_text().splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"{transcript} has no text")
    return cut_page(page, texts, out_dir)


def cut_page(page: Path, texts: list[str], out_dir: Path) -> list[Path]:
    """Save line k of `page` as `out_dir/<texts[k]>.png`; return the paths."""
    if not all(map(names_a_file, texts)) or len(set(texts)) < len(texts):
        raise ValueError(f"The lines of {page} must be distinct, without '/' or a leading '.', to name files")
    gray = load_image(page)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for text, (start, end) in zip(texts, line_bounds(to_ink(gray), len(texts)), strict=True):
        path = out_dir / f"{text}.png"
        Image.fromarray(gray[start:end]).save(path)
        paths.append(path)
    return paths


def main() -> None:
    """Cut the page given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="image of a page of handwritten lines")
    parser.add_argument("transcript", type=Path, help="text file: the page's text, one line per written line")
    parser.add_argument("out_dir", type=Path, help="folder for the <text>.png line images")
    args = parser.parse_args()
    print(f"{len(save_lines(args.page, args.transcript, args.out_dir))} lines saved in {args.out_dir}")


if __name__ == "__main__":
    main()
