"""Read PAGE XML (2013, 2019) and ALTO (v2 to v4) page files, and cut their text lines out along their polygons."""

from __future__ import annotations

import functools
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np

from text_recognizer.preprocessing import open_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
READING_ORDER = re.compile(r"readingOrder\s*\{\s*index:\s*(\d+)")
ALTO_TEXT_TAGS = {"String": "CONTENT", "SP": None, "HYP": "CONTENT"}
PAGE_NAMESPACE = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
# A polygon thinner than both these shares of the line spacing and of the page's median line is no outline of the
# ink but a strip along the baseline (Transkribus draws one when a line has a baseline alone): it is read as the
# band from LINE_ASCENT spacings above the baseline to LINE_DESCENT below.
THIN_LINE_OF_SPACING, THIN_LINE_OF_PAGE = 0.35, 0.5
LINE_ASCENT, LINE_DESCENT = 0.7, 0.3


@dataclass(frozen=True)
class PageLine:
    """One text line of a page: its polygon (see `widen_thin_lines`) and baseline in image pixels, text and PAGE
    `custom` styles."""

    polygon: np.ndarray  # (points, 2) float x, y
    baseline: np.ndarray | None  # (points, 2) float x, y, or None when the file gives none
    text: str
    custom: str = ""


@dataclass(frozen=True)
class Page:
    """The image file a page's XML names, the size it describes (width, height), and its lines in reading order."""

    image_name: str
    size: tuple[int, int]
    lines: tuple[PageLine, ...]


def local(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Direct children of `element` named `name` in any namespace."""
    return [child for child in element if local(child.tag) == name]


def descendants(element: ET.Element, name: str) -> Iterator[ET.Element]:
    """Elements below `element` named `name` in any namespace, in document order."""
    return (node for node in element.iter() if local(node.tag) == name)


def points(text: str | None) -> np.ndarray | None:
    """Parse "x,y x,y ..." (PAGE) or "x y x y ..." (ALTO) into a (points, 2) float array; None if empty."""
    numbers = [float(v) for v in re.split(r"[\s,]+", (text or "").strip()) if v]
    if len(numbers) < 2 or len(numbers) % 2:
        return None
    return np.array(numbers, dtype=np.float64).reshape(-1, 2)


def parse_page_file(data: bytes, name: str) -> Page:
    """Parse a PAGE XML or ALTO file's bytes; `name` (the file's name) appears in errors.

    Raises:
        ValueError: the file is not well-formed XML, or neither PAGE nor ALTO.
    """
    try:
        root = SafeET.fromstring(data)
    except (ET.ParseError, ValueError) as e:
        raise ValueError(f"{name} is not a readable XML file: {e}") from e
    kind = local(root.tag)
    if kind == "PcGts":
        return _parse_page(root, name)
    if kind.lower() == "alto":
        return _parse_alto(root, name)
    raise ValueError(f"{name} is neither PAGE XML (<PcGts>) nor ALTO (<alto>); its root is <{kind}>")


def thickness(polygon: np.ndarray) -> float:
    """A polygon's mean height: its area over its width."""
    x, y = polygon.T
    area = abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2
    return float(area / max(np.ptp(x), 1.0))


def widen_thin_lines(lines: list[PageLine]) -> tuple[PageLine, ...]:
    """The page's lines, each strip along a baseline replaced by a band that holds the line's ascenders and
    descenders (see THIN_LINE_OF_SPACING)."""
    heights = [float(np.median(line.baseline[:, 1])) for line in lines if line.baseline is not None]
    steps = [step for step in np.diff(heights) if step > 0]  # Successive lines in reading order.
    if not steps:
        return tuple(lines)
    spacing = float(np.median(steps))
    thicknesses = [thickness(line.polygon) for line in lines]
    limit = min(THIN_LINE_OF_SPACING * spacing, THIN_LINE_OF_PAGE * float(np.median(thicknesses)))
    widened = []
    for line, thick in zip(lines, thicknesses, strict=True):
        if line.baseline is not None and thick < limit:
            baseline = line.baseline[np.argsort(line.baseline[:, 0], kind="stable")]
            band = np.concatenate([baseline - [0, LINE_ASCENT * spacing], baseline[::-1] + [0, LINE_DESCENT * spacing]])
            line = PageLine(band, line.baseline, line.text, line.custom)
        widened.append(line)
    return tuple(widened)


def _order(element: ET.Element, position: int) -> tuple[int, int]:
    """Sort key of a region or line: its `readingOrder {index:N}` when given, then its place in the file."""
    match = READING_ORDER.search(element.get("custom", ""))
    return (int(match.group(1)) if match else position, position)


def _parse_page(root: ET.Element, name: str) -> Page:
    page = next(descendants(root, "Page"), None)
    if page is None:
        raise ValueError(f"{name} has no <Page> element")
    regions = list(descendants(page, "TextRegion"))
    explicit = {ref.get("regionRef"): int(ref.get("index", 0)) for ref in descendants(page, "RegionRefIndexed")}
    keyed = [(explicit.get(r.get("id"), _order(r, i)[0]), i, r) for i, r in enumerate(regions)]
    lines = []
    for _, _, region in sorted(keyed, key=lambda item: item[:2]):
        text_lines = children(region, "TextLine")
        for _, line in sorted(((_order(line, i), line) for i, line in enumerate(text_lines)), key=lambda p: p[0]):
            coords = children(line, "Coords")
            polygon = points(coords[0].get("points")) if coords else None
            if polygon is None:
                continue  # A line without a shape cannot be cut from the page.
            baselines = children(line, "Baseline")
            baseline = points(baselines[0].get("points")) if baselines else None
            lines.append(PageLine(polygon, baseline, _page_text(line), line.get("custom", "")))
    size = (int(float(page.get("imageWidth", 0))), int(float(page.get("imageHeight", 0))))
    return Page(page.get("imageFilename", ""), size, widen_thin_lines(lines))


def _page_text(line: ET.Element) -> str:
    """A PAGE line's own transcription (its first TextEquiv), else its words' joined by spaces."""
    for equiv in children(line, "TextEquiv"):
        unicode = children(equiv, "Unicode")
        if unicode:
            return unicode[0].text or ""
    words = [_page_text(word) for word in children(line, "Word")]
    return " ".join(word for word in words if word)


def _parse_alto(root: ET.Element, name: str) -> Page:
    unit = next(descendants(root, "MeasurementUnit"), None)
    if unit is not None and (unit.text or "").strip() not in ("pixel", ""):
        raise ValueError(f"{name} measures in {unit.text!r}; only ALTO in pixel units is read")
    page = next(descendants(root, "Page"), None)
    if page is None:
        raise ValueError(f"{name} has no <Page> element")
    file_name = next(descendants(root, "fileName"), None)
    lines = []
    for line in descendants(page, "TextLine"):
        polygon_element = next(descendants(line, "Polygon"), None)
        polygon = points(polygon_element.get("POINTS")) if polygon_element is not None else None
        if polygon is None:
            polygon = _alto_box(line)
        if polygon is None:
            continue
        baseline = points(line.get("BASELINE"))  # v4 gives points; v2 and v3 a single number (no baseline).
        lines.append(
            PageLine(polygon, baseline if baseline is not None and len(baseline) > 1 else None, _alto_text(line))
        )
    size = (int(float(page.get("WIDTH", 0))), int(float(page.get("HEIGHT", 0))))
    image_name = (file_name.text or "").strip() if file_name is not None else ""
    return Page(image_name, size, widen_thin_lines(lines))


def _alto_box(element: ET.Element) -> np.ndarray | None:
    """The HPOS/VPOS/WIDTH/HEIGHT rectangle of an ALTO element as a polygon, or None without them."""
    try:
        x, y, w, h = (float(element.get(key, "")) for key in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    except ValueError:
        return None
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def _alto_text(line: ET.Element) -> str:
    """An ALTO line's text: its strings' CONTENT, with a space for each SP and the hyphen of a HYP."""
    parts = []
    for node in line:
        tag = local(node.tag)
        if tag in ALTO_TEXT_TAGS:
            attribute = ALTO_TEXT_TAGS[tag]
            parts.append(node.get(attribute, "") if attribute else " ")
    return "".join(parts)


class PageSource:
    """The page files of a folder or a zip archive: XML files and the images they name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self.zip: zipfile.ZipFile | None = None
            self.names = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        elif path.is_file() and zipfile.is_zipfile(path):
            self.zip = zipfile.ZipFile(path)
            self.names = sorted(n for n in self.zip.namelist() if not n.endswith("/"))
        else:
            raise ValueError(f"{path} is neither a folder nor a zip archive of page images and PAGE/ALTO files")

    def xml_names(self) -> list[str]:
        """The XML files, sorted by name."""
        return [name for name in self.names if name.lower().endswith(".xml")]

    def read(self, name: str) -> bytes:
        """A file's bytes."""
        return self.zip.read(name) if self.zip else (self.path / name).read_bytes()

    def image_name(self, xml_name: str, page: Page) -> str:
        """The image file of a page: the one its XML names, else the XML's stem with an image suffix."""
        folder = str(Path(xml_name).parent)
        prefix = "" if folder == "." else f"{folder}/"
        candidates = [prefix + Path(page.image_name).name] if page.image_name else []
        candidates += [prefix + Path(xml_name).stem + suffix for suffix in IMAGE_SUFFIXES]
        present = set(self.names)
        for candidate in candidates:
            if candidate in present:
                return candidate
        raise ValueError(f"No image for {xml_name} in {self.path} (looked for {', '.join(candidates[:2])})")

    def open_image(self, name: str) -> np.ndarray:
        """A page image as uint8 grayscale."""
        return np.asarray(open_image(io.BytesIO(self.read(name))).convert("L"))


def to_page_xml(image_name: str, size: tuple[int, int], lines: list[tuple[np.ndarray, str]]) -> bytes:
    """A PAGE XML (2019) file: one region holding `lines` ((points, 2) x, y polygon in pixels, text) in reading
    order, for the image `image_name` of `size` (width, height)."""
    tag = functools.partial("{{{}}}{}".format, PAGE_NAMESPACE)
    ET.register_namespace("", PAGE_NAMESPACE)
    root = ET.Element(tag("PcGts"))
    page = ET.SubElement(root, tag("Page"), imageFilename=image_name)
    page.set("imageWidth", str(size[0]))
    page.set("imageHeight", str(size[1]))
    region = ET.SubElement(page, tag("TextRegion"), id="r1")
    for index, (polygon, text) in enumerate(lines, 1):
        line = ET.SubElement(region, tag("TextLine"), id=f"l{index}")
        ET.SubElement(line, tag("Coords"), points=" ".join(f"{x},{y}" for x, y in np.round(polygon).astype(int)))
        ET.SubElement(ET.SubElement(line, tag("TextEquiv")), tag("Unicode")).text = text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def scale_to_image(page: Page, image_size: tuple[int, int]) -> tuple[float, float]:
    """Factors (x, y) from the XML's coordinates to the image's pixels (1, 1 when the XML gives no size)."""
    width, height = page.size
    if width <= 0 or height <= 0:
        return 1.0, 1.0
    return image_size[0] / width, image_size[1] / height
