"""The FSDL handwriting pages: the Full Stack Deep Learning lab's own collection, exported from DataTurks.

The export (`data/raw/fsdl_handwriting/metadata.toml`) holds one JSON object per page: the image's URL
(`content`) and its lines (`annotation`: normalised rectangle or polygon `points` and the text in `notes`). The page
images are downloaded in parallel, each retried and checked to be a readable image, and written once (a stopped
download resumes); each page then gets a PAGE XML file beside its image, so that its lines are read like any
other collection's (`PageXmlDataset`) and its pages serve the line detector (`PageXmlPagesDataset`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from text_recognizer.datasets.dataset import (
    DownloadError,
    atomic_path,
    data_dirname,
    download_raw_dataset,
    stream_to,
)
from text_recognizer.datasets.page_xml import to_page_xml
from text_recognizer.datasets.page_xml_dataset import PageXmlDataset, print_counts
from text_recognizer.datasets.pages_dataset import PageXmlPagesDataset
from text_recognizer.line_codec import LINE_HEIGHT

NAME = "fsdl_handwriting"
WORKERS = 8
ATTEMPTS = 3  # Tries per image before it counts as failed.
RETRY_WAIT_S = 0.5  # Before the second try; doubled before each later one.
IMAGE_TIMEOUT_S = 30  # A server silent this long is tried again.


@dataclass(frozen=True)
class ExportPage:
    """A page of the export: its image URL and lines as (normalised polygon (points, 2), text), top to bottom."""

    url: str
    lines: tuple[tuple[np.ndarray, str], ...]

    @property
    def stem(self) -> str:
        """The page's file name here, without suffix: from its URL, so that it stays the same across runs."""
        return "page-" + hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def image_name(self) -> str:
        """The image's file name here (the URL's suffix where it is an image's)."""
        suffix = Path(self.url.split("?")[0]).suffix.lower()
        return self.stem + (suffix if suffix in (".jpg", ".jpeg", ".png") else ".jpg")


def parse_export(text: str) -> list[ExportPage]:
    """The pages of a DataTurks export (JSON lines); a malformed line raises ValueError naming it."""
    pages = []
    for number, row in enumerate(text.splitlines(), 1):
        if not row.strip():
            continue
        try:
            item = json.loads(row)
            lines = [_line(annotation) for annotation in item.get("annotation") or []]
            pages.append(ExportPage(str(item["content"]), tuple(sorted(lines, key=lambda line: line[0][:, 1].min()))))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise ValueError(f"Line {number} of the export is not a DataTurks page ({e!r})") from e
    return pages


def _line(annotation: dict) -> tuple[np.ndarray, str]:
    """A line's normalised polygon (a rectangle's two corners become four) and its text."""
    points = np.array(annotation["points"], dtype=np.float64).reshape(-1, 2)
    if annotation.get("shape") == "rectangle":
        (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
        points = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    if len(points) < 3 or not np.all((points >= 0) & (points <= 1)):
        raise ValueError(f"a line needs at least 2 corners or 3 points in [0, 1], got {annotation['points']}")
    return points, str(annotation.get("notes") or "")


def fetch_image(url: str, path: Path, attempts: int = ATTEMPTS, timeout: float | None = None) -> Path:
    """Download an image unless a readable copy is there; try again after errors, stalls (no byte for `timeout`
    seconds, default `IMAGE_TIMEOUT_S`) and unreadable bodies."""
    timeout = timeout or IMAGE_TIMEOUT_S
    if path.exists() and _readable(path):
        return path
    for attempt in range(attempts):
        try:
            with atomic_path(path) as tmp:
                stream_to(url, tmp, progress=False, timeout=timeout)
                if not _readable(tmp):
                    raise DownloadError(f"{url} is not an image")
            return path
        except DownloadError:
            if attempt == attempts - 1:
                raise
            time.sleep(RETRY_WAIT_S * 2**attempt)
    raise ValueError(f"attempts must be at least 1, got {attempts}")


def _readable(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.verify()
        return True
    except (OSError, SyntaxError, ValueError):
        return False


def pages_dir() -> Path:
    """Where the page images and their PAGE XML files are written."""
    return data_dirname() / "downloaded" / NAME / "pages"


def prepared_export() -> Path:
    """The export the pages were prepared from (the published one, or a local one given to `prepare_pages`)."""
    return data_dirname() / "downloaded" / NAME / "prepared_export.json"


def prepare_pages(export: Path | None = None, workers: int = WORKERS) -> Path:
    """Download the export (or read a local one) and its page images, and write each page's PAGE XML.

    Pages whose image cannot be had after every try are left out and named in one DownloadError at the end, once
    every other page is written; run again to fetch only what is missing.
    """
    text = (export or download_raw_dataset(NAME)).read_text()
    pages = parse_export(text)
    with atomic_path(prepared_export()) as tmp:
        tmp.write_text(text)
    folder = pages_dir()
    folder.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    with ThreadPoolExecutor(workers) as pool, tqdm(total=len(pages), unit="page", desc=NAME) as bar:
        futures = [pool.submit(fetch_image, page.url, folder / page.image_name) for page in pages]
        for page, future in zip(pages, futures, strict=True):
            try:
                with Image.open(future.result()) as image:
                    size = image.size
                lines = [(polygon * size, text) for polygon, text in page.lines]
                with atomic_path(folder / f"{page.stem}.xml") as tmp:
                    tmp.write_bytes(to_page_xml(page.image_name, size, lines))
            except DownloadError as e:
                failed.append(f"{page.url} ({e})")
            bar.update()
    if failed:
        raise DownloadError(
            f"{len(failed)} of {len(pages)} page images could not be downloaded, e.g. {failed[0]}; "
            "run again to fetch only those"
        )
    return folder


class FsdlHandwritingDataset(PageXmlDataset):
    """Lines of the FSDL handwriting pages (downloaded on first use), split by page.

    Args:
        test_fraction: share of the pages held out as the test split.
        validation_fraction: share of the pages that validate training.
        line_height: line height in pixels (48 for the PP-OCR recognizers).
    """

    attribution = (
        "FSDL handwriting, written by Full Stack Deep Learning course participants and labelled on DataTurks, "
        "https://github.com/the-full-stack/fsdl-text-recognizer-project"
    )

    def __init__(
        self, test_fraction: float = 0.1, validation_fraction: float = 0.1, line_height: int = LINE_HEIGHT
    ) -> None:
        super().__init__(str(pages_dir()), test_fraction, validation_fraction, line_height=line_height)

    def load_or_generate_data(self) -> None:
        """Download and prepare what the data root lacks of the pages (nothing, once they are there; from the
        export they were prepared from), then load the lines."""
        prepare_pages(prepared_export() if prepared_export().exists() else None)
        super().load_or_generate_data()

    def pages(self) -> PageXmlPagesDataset:
        """The same pages, whole, for the line detector, split as the lines are."""
        return PageXmlPagesDataset(str(pages_dir()), self.test_fraction, self.validation_fraction)


def main() -> None:
    """Prepare the pages (from the published export, or a local one), then print counts and a few lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", type=Path, help="a local DataTurks export (JSON lines) instead of the download")
    args = parser.parse_args()
    prepare_pages(args.export)
    print_counts(FsdlHandwritingDataset())


if __name__ == "__main__":
    main()
