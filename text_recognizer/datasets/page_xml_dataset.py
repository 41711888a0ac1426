"""Text lines of real pages: a folder or zip of page images with PAGE XML or ALTO files (Transkribus, eScriptorium,
Kraken), cut along their polygons, split by page or by writer."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from text_recognizer import preprocessing
from text_recognizer.datasets import page_xml
from text_recognizer.datasets.dataset import Dataset, data_dirname, load_arrays, save_arrays
from text_recognizer.datasets.page_xml import PageLine, PageSource, parse_page_file, scale_to_image
from text_recognizer.datasets.synthetic_lines_dataset import print_lines
from text_recognizer.line_codec import LINE_HEIGHT, LINE_WIDTH, MAPPING, check_line_height, encode
from text_recognizer.preprocessing import cut_line, fit_line

MAX_LENGTH = 100
FOLDS = str.maketrans(
    {"’": "'", "‘": "'", "‚": ",", "′": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-",
     "‐": "-", "…": "...", "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "\u00a0": " "}
)  # fmt: skip
# Editorial marks of transcribers ([sic], [?], ^superscript, ∞) and struck-out passages (CREMMA `>word<`).
EDITORIAL_MARKUP = re.compile(r"[\[\]^∞]|>[^<]*<")
STRUCK_STYLE = "strikethrough:true"  # A PAGE line whose `custom` marks struck-out text.
KNOWN = frozenset(MAPPING[:-1])  # Characters a line may hold (the padding symbol is not text).
CODE = [Path(__file__), Path(page_xml.__file__), Path(preprocessing.__file__)]  # What the lines are made with.

logger = logging.getLogger(__name__)


def fold_text(text: str) -> str:
    """Text in the characters of the mapping where a plain equivalent exists: é → e, œ → oe, ’ → ', « → ".

    Whitespace runs become one space and the ends are stripped (ink shows no spaces at a line's ends).
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(FOLDS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def is_vertical(line: PageLine) -> bool:
    """Whether the line runs up or down the page (a note along the margin), by its baseline or else its polygon."""
    points = line.baseline if line.baseline is not None else line.polygon
    dx, dy = np.ptp(points, axis=0) if line.baseline is None else np.abs(points[-1] - points[0])
    return bool(dy > dx)


def line_text(line: PageLine, skip_pattern: re.Pattern | None, fold: bool) -> tuple[str | None, str]:
    """The text to train on and what happened to it: "kept", "folded", or why it is skipped (text None)."""
    text = " ".join(line.text.split())
    if not text:
        return None, "empty"
    if is_vertical(line):
        return None, "vertical"
    if EDITORIAL_MARKUP.search(text) or STRUCK_STYLE in line.custom.replace(" ", ""):
        return None, "editorial markup"
    if skip_pattern is not None and skip_pattern.search(text):
        return None, "skip_pattern"
    folded = fold_text(text) if fold else text
    if not set(folded) <= KNOWN:
        return None, "characters outside the mapping"
    if len(folded) > MAX_LENGTH:
        return None, "too long"
    return folded, "folded" if folded != text else "kept"


def split_groups(groups: list[str], test_fraction: float, validation_fraction: float) -> dict[str, str]:
    """Assign each group (page, text or writer) to "test", "validation" or "train", by a hash of its name.

    The order of the names' hashes decides, so a split does not depend on the order pages are read in; a split
    with a fraction above 0 gets at least one group when there are three or more.
    """
    ranked = sorted(set(groups), key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    counts = [round(len(ranked) * f) for f in (test_fraction, validation_fraction)]
    if len(ranked) >= 3:
        counts = [max(1, c) if f > 0 else 0 for c, f in zip(counts, (test_fraction, validation_fraction), strict=True)]
    test, validation = counts
    names = ["test"] * test + ["validation"] * validation + ["train"] * (len(ranked) - test - validation)
    return dict(zip(ranked, names, strict=True))


def _page_lines(
    task: tuple[str, str, str | None, bool, bool, int],
) -> tuple[list[np.ndarray], list[str], Counter]:
    """Cut the kept lines of one page, fitted to the network's input (`raw`: as cut); run in worker processes."""
    source_path, xml_name, skip, fold, raw, height = task
    source = PageSource(Path(source_path))
    page = parse_page_file(source.read(xml_name), xml_name)
    image = source.open_image(source.image_name(xml_name, page))
    sx, sy = scale_to_image(page, (image.shape[1], image.shape[0]))
    skip_pattern = re.compile(skip) if skip else None
    lines: list[np.ndarray] = []
    texts: list[str] = []
    counts: Counter = Counter()
    for line in page.lines:
        text, outcome = line_text(line, skip_pattern, fold)
        if text is not None:
            cut = cut_line(image, line.polygon * (sx, sy))
            fitted = fit_line(cut, height, LINE_WIDTH * height // LINE_HEIGHT)
            if not fitted.any():
                text, outcome = None, "no ink"  # A degenerate polygon (a line), or ink as faint as the paper.
            else:
                lines.append(cut if raw else fitted)
                texts.append(text)
        counts[outcome] += 1
    return lines, texts, counts


class PageXmlDataset(Dataset):
    """Lines cut from page images along the polygons of their PAGE XML or ALTO files, fitted to 32×1280 (or
    `line_height` and 40 times as wide).

    Each XML file names its image (or shares its stem); coordinates are scaled when the image's size differs from
    the size the XML gives. Lines keep the file's reading order. Empty lines, lines with editorial markup
    (`[…]`, `^`, `>struck<`, PAGE `strikethrough`), lines matching `skip_pattern` and lines with characters outside
    the mapping (after folding, with `fold`) or longer than 100 characters are skipped, and counted. The split is
    by group: the page, or what `group_pattern` takes from the page's name (a writer, a letter, a text), so no
    group has lines in two splits. The processed cache is named by a hash of the files and the arguments.

    Args:
        directory: folder (searched recursively) or zip archive of page images and their XML files.
        test_fraction: share of the groups held out as the test split.
        validation_fraction: share of the groups that validate training (part of the training arrays).
        group_pattern: regular expression searched in each page's file stem; its first group (or whole match)
            names the page's group. None: each page is its own group.
        skip_pattern: lines whose text matches this regular expression are skipped (e.g. copied page codes).
        fold: turn accented letters, ligatures and typographic quotes into the mapping's characters.
        line_height: line height in pixels (48 for the PP-OCR recognizers).
    """

    attribution: str | None = None  # Credit that models trained on the lines carry in their JSON.

    def __init__(
        self,
        directory: str,
        test_fraction: float = 0.1,
        validation_fraction: float = 0.1,
        group_pattern: str | None = None,
        skip_pattern: str | None = None,
        fold: bool = True,
        line_height: int = LINE_HEIGHT,
    ) -> None:
        check_line_height(line_height)
        if not (0 <= test_fraction < 1 and 0 <= validation_fraction < 1 and test_fraction + validation_fraction < 1):
            raise ValueError(
                f"test_fraction and validation_fraction must lie in [0, 1) with a sum below 1, "
                f"got {test_fraction} and {validation_fraction}"
            )
        for pattern in (group_pattern, skip_pattern):
            try:
                re.compile(pattern or "")
            except re.error as e:
                raise ValueError(f"Bad regular expression {pattern!r}: {e}") from e
        self.directory = Path(directory).expanduser()
        self.test_fraction, self.validation_fraction = test_fraction, validation_fraction
        self.group_pattern, self.skip_pattern, self.fold = group_pattern, skip_pattern, fold
        self.mapping = MAPPING
        self.input_shape = (line_height, LINE_WIDTH * line_height // LINE_HEIGHT)
        self.output_shape = (MAX_LENGTH, len(MAPPING))
        self.counts: dict[str, int] = {}

    def group(self, page_name: str) -> str:
        """The split group of a page, from its file stem."""
        if self.group_pattern is None:
            return page_name
        match = re.search(self.group_pattern, page_name)
        if match is None:
            return page_name
        return match.group(1) if match.groups() else match.group(0)

    def load_or_generate_data(self) -> None:
        """Load the processed lines, cutting them from the pages first when the files or arguments changed."""
        source = PageSource(self.directory)
        xml_names = source.xml_names()
        if not xml_names:
            raise ValueError(f"No PAGE XML or ALTO (.xml) files in {self.directory}")
        self.data_version = f"{self.cache_name()}-{self._digest(source)[:16]}"
        cache = data_dirname() / "processed" / "page_xml" / f"{self.data_version}.h5"
        if not cache.exists():
            arrays, counts = self._cut_lines(xml_names)
            save_arrays(cache, arrays, {"counts": json.dumps(counts)})
        arrays, attrs = load_arrays(cache)
        self.x_train, self.y_train, self.x_test, self.y_test = (
            arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
        self.validation_rows = arrays["validation"]
        self.counts = json.loads(attrs["counts"])

    def cache_name(self) -> str:
        """The cache's name before the content hash."""
        return type(self).__name__.removesuffix("Dataset").lower()

    def _digest(self, source: PageSource) -> str:
        """Hash of every file's name and bytes, of the arguments and of the code that shape the lines."""
        digest = hashlib.sha256(b"".join(path.read_bytes() for path in CODE))
        arguments = [self.test_fraction, self.validation_fraction, self.group_pattern, self.skip_pattern, self.fold]
        digest.update(json.dumps([arguments, *self.input_shape, MAX_LENGTH]).encode())
        for name in source.names:
            digest.update(name.encode() + b"\0" + hashlib.sha256(source.read(name)).digest())
        return digest.hexdigest()

    def page_splits(self, xml_names: list[str]) -> list[str]:
        """The split of each page file: "train", "validation" or "test"."""
        groups = [self.group(Path(name).stem) for name in xml_names]
        splits = split_groups(groups, self.test_fraction, self.validation_fraction)
        return [splits[group] for group in groups]

    def _read_pages(self, xml_names: list[str], raw: bool) -> list[tuple[list[np.ndarray], list[str], Counter]]:
        height = self.input_shape[0]
        tasks = [(str(self.directory), name, self.skip_pattern, self.fold, raw, height) for name in xml_names]
        with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
            return pool.map(_page_lines, tasks)

    def split_crops(self, split: str = "test") -> tuple[list[np.ndarray], list[str]]:
        """The kept lines of a split as cut from their pages (grayscale, not fitted to the network) and their texts."""
        all_names = PageSource(self.directory).xml_names()
        splits = self.page_splits(all_names)
        xml_names = [name for name, page_split in zip(all_names, splits, strict=True) if page_split == split]
        crops: list[np.ndarray] = []
        texts: list[str] = []
        for lines, line_texts, _ in self._read_pages(xml_names, raw=True):
            crops, texts = crops + lines, texts + line_texts
        return crops, texts

    def _cut_lines(self, xml_names: list[str]) -> tuple[dict[str, np.ndarray], dict[str, int]]:
        counts: Counter = Counter()
        parts: dict[str, tuple[list, list]] = {"train": ([], []), "validation": ([], []), "test": ([], [])}
        results = self._read_pages(xml_names, raw=False)
        for split, (lines, texts, page_counts) in zip(self.page_splits(xml_names), results, strict=True):
            counts.update(page_counts)
            images, labels = parts[split]
            images.extend(lines)
            labels.extend(encode(text, MAX_LENGTH) for text in texts)
        counts.update({f"{split} lines": len(images) for split, (images, _) in parts.items()})
        counts["pages"] = len(xml_names)
        logger.info("%s: %s", type(self).__name__, dict(counts))
        train = parts["train"][0] + parts["validation"][0]
        validation = np.arange(len(train)) >= len(parts["train"][0])
        return {
            "x_train": _stack(train, self.input_shape),
            "y_train": _labels(parts["train"][1] + parts["validation"][1]),
            "validation": validation,
            "x_test": _stack(parts["test"][0], self.input_shape),
            "y_test": _labels(parts["test"][1]),
        }, dict(counts)

    def validation_mask(self) -> np.ndarray:
        """The training rows that validate: the lines of the validation groups."""
        return self.validation_rows

    def config(self) -> dict[str, Any]:
        """The base description plus the attribution, where the lines carry one."""
        return {**super().config(), **({"attribution": [self.attribution]} if self.attribution else {})}


def _stack(lines: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    return np.stack(lines) if lines else np.zeros((0, *shape), dtype=np.uint8)


def _labels(labels: list[np.ndarray]) -> np.ndarray:
    return np.stack(labels) if labels else np.zeros((0, MAX_LENGTH), dtype=np.int64)


def print_counts(dataset: PageXmlDataset) -> None:
    """Print a page dataset's shapes, its line counts (kept, folded, skipped by reason) and a few lines."""
    print_lines(dataset)
    for key, value in dataset.counts.items():
        print(f"{key}: {value}")


def main() -> None:
    """Print the counts and a few lines of a folder or zip of pages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", help="folder or zip of page images with PAGE XML or ALTO files")
    parser.add_argument("--group-pattern", help="regular expression naming a page's split group from its file stem")
    parser.add_argument("--skip-pattern", help="skip lines whose text matches this regular expression")
    parser.add_argument("--no-fold", action="store_true", help="skip lines with accents instead of folding them")
    args = parser.parse_args()
    print_counts(
        PageXmlDataset(
            args.directory, group_pattern=args.group_pattern, skip_pattern=args.skip_pattern, fold=not args.no_fold
        )
    )


if __name__ == "__main__":
    main()
