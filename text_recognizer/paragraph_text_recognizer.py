"""Read a page or paragraph of handwriting: find its lines, cut each from the page, read them in one batch."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from text_recognizer import WEIGHTS_DIR
from text_recognizer.line_maps import detection_input
from text_recognizer.line_predictor import BACKENDS, DECODERS, LinePredictor, keras_runner, onnx_runner
from text_recognizer.line_regions import LineRegion, line_regions_of_maps
from text_recognizer.preprocessing import ImageInput, cut_line, load_image

DEFAULT_DETECTOR = WEIGHTS_DIR / "LineDetectorModel_MixedPagesDataset_line_detector_unet.json"


@dataclass
class ParagraphLine:
    """A line of a page: its box (x0, y0, x1, y1) and outline polygon in input pixels, its text and confidence."""

    box: tuple[int, int, int, int]
    polygon: np.ndarray
    text: str
    confidence: float


@dataclass
class ParagraphPrediction:
    """What a page reads: its lines top to bottom, and their texts joined by newlines."""

    text: str
    lines: list[ParagraphLine]


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
        being in a line's core band and in a line's area."""
        return self._detect(detection_input(load_image(image))[None, :, :, None].astype(np.float32))[0]

    def detect(self, image: ImageInput) -> list[LineRegion]:
        """The lines of a page, top to bottom, as polygons and boxes in its pixels."""
        gray = load_image(image)
        return line_regions_of_maps(self.maps(gray), gray.shape)

    def predict(self, image: ImageInput) -> ParagraphPrediction:
        """Read every line of a page (one network call for the lines of each padded width)."""
        gray = load_image(image)
        regions = self.detect(gray)
        readings = self.line_predictor.predict_batch([cut_line(gray, r.polygon) for r in regions]) if regions else []
        lines = [
            ParagraphLine(region.box, region.polygon, text, confidence)
            for region, (text, confidence) in zip(regions, readings, strict=True)
        ]
        return ParagraphPrediction("\n".join(line.text for line in lines), lines)


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
        print(path)
        for line in recognizer.predict(path).lines:
            print(f"  {line.box}\t{line.confidence:.3f}\t{line.text}")


if __name__ == "__main__":
    main()
