"""Read a page or paragraph of handwriting: find its lines, cut each from the page, read them in one batch."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text_recognizer import WEIGHTS_DIR
from text_recognizer.line_maps import page_detection_input
from text_recognizer.line_predictor import BACKENDS, DECODERS, LinePredictor, keras_runner, onnx_runner
from text_recognizer.line_regions import LineRegion, line_regions_of_maps
from text_recognizer.preprocessing import ImageInput, cut_line, load_image

DEFAULT_DETECTOR = WEIGHTS_DIR / "LineDetectorModel_MixedPagesDataset_line_detector_unet.json"
# Lines found on an upright page are wider than tall by this factor or more (median); on a page turned sideways, its
# words come out as short, nearly square "lines".
UPRIGHT_ASPECT = 5.0
TURN_CHECK_LINES = 4  # The widest lines of a page are read turned half a turn too, to tell upright from upside down.


@dataclass
class ParagraphLine:
    """A line of a page: its box (x0, y0, x1, y1) and outline polygon in input pixels, its text and confidence."""

    box: tuple[int, int, int, int]
    polygon: np.ndarray
    text: str
    confidence: float


@dataclass
class ParagraphPrediction:
    """What a page reads: its lines top to bottom, and their texts joined by newlines.

    `rotation` is how far the page as sent was turned from upright, in degrees clockwise (0, 90, 180 or 270): it
    was read turned back, and its lines' boxes and polygons are given in the pixels of the image as sent.
    """

    text: str
    lines: list[ParagraphLine]
    rotation: int = 0


class ParagraphTextRecognizer:
    """Loads a line detector and a line model once and reads pages of any size, either polarity, scans or photos.

    Args:
        detector: the line detector's `.json` (its `.onnx` or `.weights.h5` lies beside it).
        line_model: the line model: a shipped model's name ("default", "accurate") or the path of its `.json`.
        backend: "onnx" (default; imports neither TensorFlow nor Keras) or "keras", for both models.
        threads: ONNX Runtime threads per model (0: one per core).
        decoder: how the line model's outputs become text: "greedy" or "words" (English words, see `LinePredictor`).
        line_predictor: a loaded line predictor to read the lines with, instead of loading `line_model`.
    """

    def __init__(
        self,
        detector: str | Path = DEFAULT_DETECTOR,
        line_model: str | Path = "default",
        backend: str = "onnx",
        threads: int = 0,
        decoder: str = "greedy",
        line_predictor: LinePredictor | None = None,
    ) -> None:
        detector = Path(detector)
        if json.loads(detector.read_text()).get("preprocessing") != "detection_input":
            raise ValueError(f"{detector} is not a line detector")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        onnx = backend == "onnx"
        self._detect = onnx_runner(detector.with_suffix(".onnx"), threads) if onnx else keras_runner(detector)
        self.line_predictor = line_predictor or LinePredictor(line_model, backend, threads, decoder)
        self.name = f"{detector.stem}+{self.line_predictor.name}"

    def maps(self, image: ImageInput) -> np.ndarray:
        """The detector's two maps of a page at the detection scale: (size, size, 2) probabilities of each pixel
        being in a line's core band and in a line's area (size 512, larger for a page of dense lines)."""
        return self._maps(load_image(image))

    def _maps(self, gray: np.ndarray) -> np.ndarray:
        return self._detect(page_detection_input(gray)[None, :, :, None].astype(np.float32))[0]

    def detect(self, image: ImageInput) -> list[LineRegion]:
        """The lines of a page, top to bottom, as polygons and boxes in its pixels."""
        return self._regions(load_image(image))

    def _regions(self, gray: np.ndarray) -> list[LineRegion]:
        return line_regions_of_maps(self._maps(gray), gray.shape)

    def predict(self, image: ImageInput) -> ParagraphPrediction:
        """Read every line of a page turned by any quarter turns (one network call for the lines of each padded
        width). A page whose lines come out short and nearly square is tried turned sideways; a page whose widest
        lines read more confidently turned half a turn is read that way up."""
        gray = load_image(image)
        quarters, regions = self._upright_quarters(gray)
        upright = np.rot90(gray, quarters)
        cuts, readings = self._read(upright, regions)
        if self._upside_down(cuts, readings):
            quarters, upright = quarters + 2, upright[::-1, ::-1]
            regions = self._regions(upright)
            cuts, readings = self._read(upright, regions)
        lines = []
        for region, (text, confidence) in zip(regions, readings, strict=True):
            polygon = as_sent(region.polygon, quarters, upright.shape)
            x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
            x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
            lines.append(ParagraphLine((int(x0), int(y0), int(x1), int(y1)), polygon, text, confidence))
        return ParagraphPrediction("\n".join(line.text for line in lines), lines, 90 * quarters % 360)

    def _upright_quarters(self, gray: np.ndarray) -> tuple[int, list[LineRegion]]:
        """Quarter turns (counter-clockwise: 0 or 1) that make the page's lines run across, and its lines then: a
        page is turned only where its lines are then as long as an upright page's."""
        regions = self._regions(gray)
        if median_aspect(regions) >= UPRIGHT_ASPECT:
            return 0, regions
        sideways = self._regions(np.rot90(gray))
        turn = median_aspect(sideways) >= max(UPRIGHT_ASPECT, median_aspect(regions))
        return (1, sideways) if turn else (0, regions)

    def _read(self, page: np.ndarray, regions: list[LineRegion]) -> tuple[list[np.ndarray], list[tuple[str, float]]]:
        cuts = [cut_line(page, region.polygon) for region in regions]
        return cuts, self.line_predictor.predict_batch(cuts) if cuts else []

    def _upside_down(self, cuts: list[np.ndarray], readings: list[tuple[str, float]]) -> bool:
        """Whether the page's widest lines read more confidently turned half a turn."""
        widest = sorted(range(len(cuts)), key=lambda i: cuts[i].shape[1], reverse=True)[:TURN_CHECK_LINES]
        if not widest:
            return False
        turned = self.line_predictor.predict_batch([cuts[i][::-1, ::-1] for i in widest])
        return np.mean([confidence for _, confidence in turned]) > np.mean([readings[i][1] for i in widest])


def median_aspect(regions: list[LineRegion]) -> float:
    """The median width-to-height ratio of found lines' boxes (0 for none)."""
    if not regions:
        return 0.0
    boxes = np.array([region.box for region in regions], dtype=float)
    return float(np.median((boxes[:, 2] - boxes[:, 0]) / np.maximum(boxes[:, 3] - boxes[:, 1], 1)))


def as_sent(points: np.ndarray, quarters: int, upright_shape: tuple[int, ...]) -> np.ndarray:
    """(x, y) points on the upright page, `np.rot90(sent, quarters)` of shape `upright_shape`, on the page as sent."""
    height, width = upright_shape[:2]
    for _ in range(quarters % 4):  # Undo one counter-clockwise quarter turn.
        points = np.stack([height - points[:, 1], points[:, 0]], axis=1)
        height, width = width, height
    return points


def main() -> None:
    """Print each line's box, confidence and text for each page image given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+", help="page image files")
    parser.add_argument("--backend", choices=BACKENDS, default="onnx")
    parser.add_argument("--line-model", default="default", help="default or accurate, or a line model's .json")
    parser.add_argument("--decoder", choices=DECODERS, default="greedy", help="words: lean towards English words")
    args = parser.parse_args()
    recognizer = ParagraphTextRecognizer(line_model=args.line_model, backend=args.backend, decoder=args.decoder)
    for path in args.images:
        page = recognizer.predict(path)
        print(f"{path} (turned {page.rotation} degrees)" if page.rotation else path)
        for line in page.lines:
            print(f"  {line.box}\t{line.confidence:.3f}\t{line.text}")


if __name__ == "__main__":
    main()
