"""The 49 real reference lines: the FSDL line crops of a reference-samples folder, and the lines of its five IAM
pages cut by `page_lines` along the transcripts its README gives.

    python -m evaluation.reference_lines REFERENCE_SAMPLES OUT_DIR
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from evaluation.page_lines import cut_page
from text_recognizer.datasets.line_folder_dataset import folder_lines

LINE_FOLDERS = ("iam_lines", "emnist_lines", "legacy/emnist_lines")  # Crops named by their text.
PAGE_000U = "iam_paragraphs/a01-000u-cropped.jpg"  # Transcribed in the README as a numbered list.
PAGES_2022 = "iam_paragraphs_fsdl2022"  # <id>.png, transcribed in the README as `<id>:` and a code block.
NUMBERED_LINE = re.compile(r"^\s*\d+\. `(.+)`\s*$", re.MULTILINE)
CODE_BLOCK = re.compile(r"^(a\d\d-\d{3})\b[^\n]*:\n```\n(.*?)\n```", re.MULTILINE | re.DOTALL)


def page_transcripts(samples: Path) -> dict[Path, list[str]]:
    """Each reference page and its lines, as its README transcribes them."""
    readme = (samples / "README.md").read_text()
    pages = {samples / PAGE_000U: NUMBERED_LINE.findall(readme)}
    for page_id, text in CODE_BLOCK.findall(readme):
        pages[samples / PAGES_2022 / f"{page_id}.png"] = text.splitlines()
    missing = [page for page, lines in pages.items() if not page.exists() or not lines]
    if missing or len(pages) < 2:
        raise ValueError(f"{samples} lacks reference pages or their transcripts: {missing or 'no code blocks'}")
    return pages


def reference_lines(samples: Path, out_dir: Path) -> tuple[list[Path], list[str]]:
    """The reference line images and texts: the crops, then the cut page lines (saved in `out_dir`)."""
    images: list[Path] = []
    texts: list[str] = []
    for folder in LINE_FOLDERS:
        paths, names = folder_lines(samples / folder)
        images, texts = images + paths, texts + names
    for page, lines in page_transcripts(samples).items():
        images += cut_page(page, lines, out_dir / page.stem)
        texts += lines
    return images, texts


def main() -> None:
    """Cut the reference pages into OUT_DIR and print how many lines there are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", type=Path, help="the reference-samples folder")
    parser.add_argument("out_dir", type=Path, help="folder for the cut page lines")
    args = parser.parse_args()
    images, _ = reference_lines(args.samples, args.out_dir)
    print(f"{len(images)} reference lines; page lines saved under {args.out_dir}")


if __name__ == "__main__":
    main()
