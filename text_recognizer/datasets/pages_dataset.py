"""Pages for the line detector: page images at the detection size with maps of their lines (core band and area),
from synthetic paragraphs, from PAGE XML / ALTO collections, or both mixed."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from text_recognizer import line_maps as maps_module
from text_recognizer import line_regions
from text_recognizer.datasets import synthetic_pages
from text_recognizer.datasets.dataset import Dataset, data_dirname, load_arrays, save_arrays
from text_recognizer.datasets.handwriting import find_fonts, fonts_fingerprint
from text_recognizer.datasets.page_xml import PageSource, parse_page_file, scale_to_image
from text_recognizer.datasets.page_xml_dataset import PageXmlDataset, fold_text
from text_recognizer.datasets.real_handwriting import COLLECTIONS, collection_dir, download_collection, is_available
from text_recognizer.datasets.sentence_generator import SentenceGenerator
from text_recognizer.datasets.synthetic_characters import split_fonts
from text_recognizer.line_maps import DETECTION_SIZE, MAP_NAMES, detection_input, detection_scale, line_maps

SPLITS = ("train", "validation", "test")
LINES_PER_PAGE = (2, 15)  # Lines of a synthetic paragraph (inclusive).
LINE_LENGTH = (12, 40)  # Characters of a synthetic paragraph's longest lines.
MIN_LINE_SIDE = 4  # Lines of real pages whose polygon is thinner than this (pixels) are marks, not lines.
CODE = [Path(maps_module.__file__), Path(synthetic_pages.__file__), Path(__file__)]  # What pages are made with.

logger = logging.getLogger(__name__)


@dataclass
class PageSample:
    """A page as read or rendered: grayscale image, the outline polygon of each line (x, y pixels), its text."""

    image: np.ndarray
    polygons: list[np.ndarray]
    texts: list[str]


def page_arrays(page: PageSample) -> tuple[np.ndarray, np.ndarray]:
    """A page as the detector's input and target: uint8 (size, size) ink and uint8 (size, size, 2) maps."""
    scale = detection_scale(page.image.shape)
    return detection_input(page.image), line_maps([polygon * scale for polygon in page.polygons])


def code_digest() -> str:
    """Hash of the code that turns pages into arrays, so a change to it rebuilds the caches."""
    return hashlib.sha256(b"".join(path.read_bytes() for path in CODE)).hexdigest()[:12]


class PagesDataset(Dataset):
    """Pages at the detection size (uint8 ink) and their line maps, split into train (with validation) and test.

    Subclasses say which pages each split holds (`pages`) and name their cache (`data_version`).
    """

    mapping = MAP_NAMES
    input_shape = (DETECTION_SIZE, DETECTION_SIZE, 1)  # Stored without the channel axis, which batches add.
    output_shape = (DETECTION_SIZE, DETECTION_SIZE, len(MAP_NAMES))

    def pages(self, split: str) -> list[PageSample]:
        """The pages of a split ("train", "validation" or "test") at their own resolution."""
        raise NotImplementedError

    def version(self) -> str:
        """The cache's name: what the pages are, without the code's hash."""
        raise NotImplementedError

    def load_or_generate_data(self) -> None:
        """Load the arrays from the processed cache, making them from the pages first when missing."""
        self.data_version = f"{self.version()}-{code_digest()}-{DETECTION_SIZE}"
        cache = data_dirname() / "processed" / "pages" / f"{self.data_version}.h5"
        if not cache.exists():
            logger.info("Building %s into %s", type(self).__name__, cache)
            save_arrays(cache, self._arrays())
        arrays, _ = load_arrays(cache)
        self.x_train, self.y_train, self.x_test, self.y_test = (
            arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")
        )
        self.validation_rows = arrays["validation"]

    def _arrays(self) -> dict[str, np.ndarray]:
        parts = {split: [page_arrays(page) for page in self.pages(split)] for split in SPLITS}
        train = parts["train"] + parts["validation"]
        return {
            "x_train": _stack([x for x, _ in train], self.input_shape[:2]),
            "y_train": _stack([y for _, y in train], self.output_shape),
            "validation": np.arange(len(train)) >= len(parts["train"]),
            "x_test": _stack([x for x, _ in parts["test"]], self.input_shape[:2]),
            "y_test": _stack([y for _, y in parts["test"]], self.output_shape),
        }

    def validation_mask(self) -> np.ndarray:
        """The training rows that validate: pages of the validation split."""
        return self.validation_rows


def _stack(arrays: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    return np.stack(arrays) if arrays else np.zeros((0, *shape), dtype=np.uint8)


def _render_task(task: tuple[tuple[Path, ...], tuple[int, ...], tuple[int, int], tuple[int, int]]) -> PageSample:
    fonts, seed, lines_per_page, line_length = task
    rng = np.random.default_rng(seed)
    generator = SentenceGenerator(None, seed=int(rng.integers(1 << 31)))
    count = int(rng.integers(lines_per_page[0], lines_per_page[1] + 1))
    longest = int(rng.integers(*line_length))
    texts = [generator.generate(int(rng.integers(longest // 3, longest + 1))) for _ in range(count)]
    image, polygons = synthetic_pages.render_page(texts, fonts, rng)
    return PageSample(image, polygons, texts)


class SyntheticPagesDataset(PagesDataset):
    """Synthetic paragraphs of handwritten lines (see `synthetic_pages`); the test pages' fonts are held out.

    Args:
        num_train: training pages (a tenth validates).
        num_test: test pages.
        seed: seed of the text and the rendering.
        lines_per_page: fewest and most lines of a page (2 to 15; a dense A4 page holds 40 to 60).
        line_length: fewest and most characters of a page's longest lines (12 to 40; an A4 page's, 50 to 70).
    """

    def __init__(
        self,
        num_train: int = 1500,
        num_test: int = 100,
        seed: int = 0,
        lines_per_page: tuple[int, int] = LINES_PER_PAGE,
        line_length: tuple[int, int] = LINE_LENGTH,
    ) -> None:
        if min(num_train, num_test) <= 0:
            raise ValueError("num_train and num_test must be positive")
        for name, (fewest, most) in (("lines_per_page", lines_per_page), ("line_length", line_length)):
            if not 1 <= fewest <= most:
                raise ValueError(f"{name} must be (fewest, most) with 1 <= fewest <= most, got {(fewest, most)}")
        self.num_train, self.num_test, self.seed = num_train, num_test, seed
        self.lines_per_page = (lines_per_page[0], lines_per_page[1])  # JSON gives lists.
        self.line_length = (line_length[0], line_length[1])
        self.fonts = find_fonts()

    def version(self) -> str:
        """Fonts, sizes, seed and (where not the defaults) lines per page and line length."""
        shape = "" if self.lines_per_page == LINES_PER_PAGE else "-lines{}-{}".format(*self.lines_per_page)
        shape += "" if self.line_length == LINE_LENGTH else "-length{}-{}".format(*self.line_length)
        return f"synthetic-{fonts_fingerprint(self.fonts)}-{self.num_train}-{self.num_test}-s{self.seed}{shape}"

    def pages(self, split: str) -> list[PageSample]:
        """Rendered pages: the training pages' last tenth validates."""
        font_sets = split_fonts(self.fonts)
        validation = self.num_train // 10
        ranges = {"train": range(self.num_train - validation), "validation": range(self.num_train - validation,
                  self.num_train), "test": range(self.num_test)}  # fmt: skip
        fonts = font_sets["test" if split == "test" else "train"]
        split_id = 1 if split == "test" else 0
        tasks = [(fonts, (self.seed, split_id, i), self.lines_per_page, self.line_length) for i in ranges[split]]
        with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
            return pool.map(_render_task, tasks, chunksize=16)


def _read_page(task: tuple[str, str]) -> PageSample:
    source_path, xml_name = task
    source = PageSource(Path(source_path))
    page = parse_page_file(source.read(xml_name), xml_name)
    image = source.open_image(source.image_name(xml_name, page))
    scale = scale_to_image(page, (image.shape[1], image.shape[0]))
    polygons, texts = [], []
    for line in page.lines:
        polygon = line.polygon * scale
        if min(np.ptp(polygon, axis=0)) >= MIN_LINE_SIDE:
            polygons.append(polygon)
            texts.append(fold_text(line.text))
    return PageSample(image, polygons, texts)


class PageXmlPagesDataset(PagesDataset):
    """Pages of a folder or zip of page images with PAGE XML or ALTO files, split by group as `PageXmlDataset`
    splits their lines (so a collection's test pages hold its test lines); every line with a polygon counts.

    Args:
        directory: folder (searched recursively) or zip archive of page images and their XML files.
        test_fraction: share of the groups held out as the test split.
        validation_fraction: share of the groups that validate training.
        group_pattern: regular expression naming a page's group from its file stem (None: each page alone).
    """

    name = "pages"  # Names the cache; a named collection's pages carry the collection's name.

    def __init__(
        self,
        directory: str,
        test_fraction: float = 0.1,
        validation_fraction: float = 0.1,
        group_pattern: str | None = None,
    ) -> None:
        self.lines = PageXmlDataset(directory, test_fraction, validation_fraction, group_pattern=group_pattern)
        self.source = PageSource(self.lines.directory)

    @classmethod
    def collection(cls, name: str, download: bool = False) -> PageXmlPagesDataset:
        """The pages of a named real collection (see `real_handwriting.COLLECTIONS`), split as its lines are."""
        if name not in COLLECTIONS:
            raise ValueError(f"Unknown collection {name!r}; valid: {', '.join(COLLECTIONS)}")
        if not is_available(name):
            if not download:
                raise ValueError(
                    f"Collection {name!r} is not at {collection_dir(name)}: download it, or import a local copy "
                    f"with `python -m text_recognizer.datasets.real_handwriting {name} --import FOLDER`"
                )
            download_collection(name)
        lines = COLLECTIONS[name]()
        dataset = cls(str(lines.directory), lines.test_fraction, lines.validation_fraction, lines.group_pattern)
        dataset.name = name
        return dataset

    def version(self) -> str:
        """The collection's name and a hash of its XML files and the split's arguments."""
        digest = hashlib.sha256()
        args = [self.lines.test_fraction, self.lines.validation_fraction, self.lines.group_pattern]
        digest.update(json.dumps(args).encode())
        for name in self.source.xml_names():
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.source.read(name)).digest())
        return f"{self.name}-{digest.hexdigest()[:16]}"

    def pages(self, split: str) -> list[PageSample]:
        """The pages of the split's groups, read from their files."""
        names = self.source.xml_names()
        if not names:
            raise ValueError(f"No PAGE XML or ALTO (.xml) files in {self.lines.directory}")
        chosen = [n for n, s in zip(names, self.lines.page_splits(names), strict=True) if s == split]
        with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
            return pool.map(_read_page, [(str(self.lines.directory), name) for name in chosen])

    def config(self) -> dict[str, Any]:
        """The base description plus the collection's attribution, where it has one."""
        attribution = COLLECTIONS[self.name].attribution if self.name in COLLECTIONS else None
        return {**super().config(), **({"attribution": [attribution]} if attribution else {})}


class MixedPagesDataset(PagesDataset):
    """Synthetic paragraphs and the pages of the real collections at the data root, for training the detector.

    A collection that is not at the data root is left out with a warning. Validation takes the collections'
    validation pages and a tenth of the synthetic pages; the test split joins their test pages.

    Args:
        collections: names of real collections (see `real_handwriting.COLLECTIONS`).
        synthetic_train: synthetic training pages.
        synthetic_test: synthetic test pages.
        seed: seed of the synthetic pages.
    """

    def __init__(
        self,
        collections: tuple[str, ...] | list[str] = ("hooker", "copiste"),
        synthetic_train: int = 1500,
        synthetic_test: int = 100,
        seed: int = 0,
    ) -> None:
        unknown = set(collections) - set(COLLECTIONS)
        if unknown:
            raise ValueError(f"Unknown collections {sorted(unknown)}; valid: {', '.join(COLLECTIONS)}")
        self.collections = [name for name in collections if is_available(name)]
        for name in sorted(set(collections) - set(self.collections)):
            logger.warning("Real pages %r are not at %s: training without them.", name, collection_dir(name))
        self.parts: list[PagesDataset] = [PageXmlPagesDataset.collection(name) for name in self.collections]
        self.parts.append(SyntheticPagesDataset(synthetic_train, synthetic_test, seed))

    def load_or_generate_data(self) -> None:
        """Load each part (building its cache when missing) and join them."""
        for part in self.parts:
            part.load_or_generate_data()
        self.data_version = "+".join(part.data_version for part in self.parts)
        for key in ("x_train", "y_train", "x_test", "y_test", "validation_rows"):
            setattr(self, key, np.concatenate([getattr(part, key) for part in self.parts]))

    def config(self) -> dict[str, Any]:
        """The base description plus the attributions of the real collections."""
        attribution = [COLLECTIONS[name].attribution for name in self.collections]
        return {**super().config(), **({"attribution": attribution} if attribution else {})}


def main() -> None:
    """Print the shapes of a pages dataset and how many lines its pages hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="'synthetic', a collection's name, or a folder/zip of PAGE XML pages")
    args = parser.parse_args()
    if args.source == "synthetic":
        dataset: PagesDataset = SyntheticPagesDataset()
    elif args.source in COLLECTIONS:
        dataset = PageXmlPagesDataset.collection(args.source)
    else:
        dataset = PageXmlPagesDataset(args.source)
    dataset.load_or_generate_data()
    print(dataset)
    counts = [len(line_regions.line_masks(y.astype(np.float32))) for y in dataset.y_test]
    print(f"test pages: {len(counts)}, lines per page: {np.mean(counts):.1f} (min {min(counts)}, max {max(counts)})")


if __name__ == "__main__":
    main()
