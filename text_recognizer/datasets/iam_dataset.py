"""IAM Handwriting Database forms (FSDL `iamdb.zip`): writers, line texts and line boxes from the XML."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import xml.etree.ElementTree as ElementTree
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from text_recognizer.datasets.dataset import data_dirname, download_raw_dataset, load_metadata

NAME = "iam"
EXTRACTED = "iamdb"  # The zip's top-level folder, holding xml/ and forms/.
TEST_WRITER_PERCENT = 20  # Share of writers whose forms form the test split.

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IamLine:
    """One handwritten line: its transcription and box (x0, y0, x1, y1) in form-image pixels."""

    text: str
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class IamForm:
    """One scanned form: id, writer, image path and handwritten lines."""

    id: str
    writer: str
    image: Path
    lines: tuple[IamLine, ...]

    @property
    def split(self) -> str:
        """ "test" or "train", by writer, so that no writer is in both (writer-independent split)."""
        return "test" if self.writer_bucket < TEST_WRITER_PERCENT else "train"

    @property
    def writer_bucket(self) -> int:
        """A number from 0 to 99 drawn from the writer's id: the forms of one writer share it."""
        return int(hashlib.sha256(self.writer.encode()).hexdigest(), 16) % 100


def parse_form(xml_path: Path, image_path: Path) -> IamForm:
    """Read a form's XML: line texts from `handwritten-part/line@text`, boxes from their word components.

    XML coordinates refer to the full-resolution scan; boxes are scaled to the actual image (FSDL's copy is
    downsampled by 2).
    """
    root = ElementTree.parse(xml_path).getroot()  # noqa: S314 (the archive's checksum is verified)
    with Image.open(image_path) as image:
        scale = image.width / int(root.attrib["width"])
    lines = []
    for line in root.findall("handwritten-part/line"):
        parts = line.findall("word/cmp")
        if not parts:
            continue
        x0 = min(int(c.attrib["x"]) for c in parts)
        y0 = min(int(c.attrib["y"]) for c in parts)
        x1 = max(int(c.attrib["x"]) + int(c.attrib["width"]) for c in parts)
        y1 = max(int(c.attrib["y"]) + int(c.attrib["height"]) for c in parts)
        box = (int(x0 * scale), int(y0 * scale), int(x1 * scale) + 1, int(y1 * scale) + 1)
        lines.append(IamLine(line.attrib["text"], box))
    return IamForm(root.attrib["id"], root.attrib["writer-id"], image_path, tuple(lines))


class IamDataset:
    """Downloads and extracts `iamdb.zip` once, then lists its forms."""

    def __init__(self) -> None:
        self.metadata = load_metadata(NAME)
        self.dirname = data_dirname() / "downloaded" / NAME / EXTRACTED
        self.forms: list[IamForm] = []

    def load_or_generate_data(self) -> None:
        """Download and extract when needed, then parse every form with an image."""
        if not self.dirname.exists():
            extract(download_raw_dataset(NAME), self.dirname)
        for xml_path in sorted((self.dirname / "xml").glob("*.xml")):
            image_path = self.dirname / "forms" / f"{xml_path.stem}.jpg"
            if image_path.exists():
                self.forms.append(parse_form(xml_path, image_path))
            else:
                logger.warning("IAM form %s has no image; skipped", xml_path.stem)
        if not self.forms:
            raise ValueError(f"No IAM forms in {self.dirname}; delete it to extract the archive again")

    def __repr__(self) -> str:
        """Counts of forms, lines and writers."""
        writers = {form.writer for form in self.forms}
        lines = sum(len(form.lines) for form in self.forms)
        return f"IamDataset(forms={len(self.forms)}, lines={lines}, writers={len(writers)})"


def extract(zip_path: Path, destination: Path) -> None:
    """Extract the archive's `iamdb/` folder to `destination`, which appears only once extraction is complete."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as tmp:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(tmp)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{zip_path} is not a valid zip archive ({e}); delete it and download again") from e
        extracted = Path(tmp) / EXTRACTED
        if not (extracted / "xml").is_dir():
            raise ValueError(f"{zip_path} has no {EXTRACTED}/xml folder; is it the IAM archive?")
        shutil.move(str(extracted), destination)


def main() -> None:
    """Print the form, line and writer counts."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dataset = IamDataset()
    dataset.load_or_generate_data()
    print(dataset)


if __name__ == "__main__":
    main()
