"""Write the drift monitor's reference statistics: the features of photo-like synthetic lines (dark ink on paper,
held-out fonts) as the shipped predictor sees them."""

from __future__ import annotations

import argparse
import json

import numpy as np

from api.monitoring import FEATURES, REFERENCE_PATH
from text_recognizer.datasets.handwriting import find_fonts
from text_recognizer.datasets.sentence_generator import SentenceGenerator
from text_recognizer.datasets.synthetic_characters import split_fonts
from text_recognizer.datasets.synthetic_lines import render_photo
from text_recognizer.line_predictor import LinePredictor

REFERENCE_SEED = 11


def reference_lines(count: int) -> list[np.ndarray]:
    """Photo-like lines of generated text: what the API expects people to send."""
    rng = np.random.default_rng(REFERENCE_SEED)
    fonts = split_fonts(find_fonts())["test"]
    generator = SentenceGenerator(max_length=40, seed=REFERENCE_SEED)
    return [render_photo(generator.generate(), fonts, rng) for _ in range(count)]


def main() -> None:
    """Compute mean and standard deviation of every monitored feature and write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=300)
    args = parser.parse_args()
    lines = reference_lines(args.lines)
    predictor = LinePredictor()
    confidences = [confidence for _, confidence in predictor.predict_batch(lines)]
    values = {
        "mean_intensity": [float(line.mean()) for line in lines],
        "aspect_ratio": [line.shape[1] / line.shape[0] for line in lines],
        "confidence": confidences,
    }
    features = {name: {"mean": float(np.mean(values[name])), "std": float(np.std(values[name]))} for name in FEATURES}
    REFERENCE_PATH.write_text(
        json.dumps({"model": predictor.name, "lines": len(lines), "features": features}, indent=2)
    )
    print(json.dumps(features, indent=2))


if __name__ == "__main__":
    main()
