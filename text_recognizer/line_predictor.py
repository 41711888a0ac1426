"""Read a line of handwriting from an image of any size and either polarity (Keras or ONNX Runtime)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from text_recognizer import WEIGHTS_DIR
from text_recognizer.line_reader import LineReader
from text_recognizer.preprocessing import ImageInput, line_input, load_image

if TYPE_CHECKING:
    from text_recognizer.english import WordModel

# The shipped line models by name: "default" (fast: PP-OCRv6 tiny fine-tuned) and "accurate" (PP-OCRv6 small).
LINE_MODELS = {
    "default": WEIGHTS_DIR / "LineModelCtc_MixedLinesDataset_ppocr_rec_tiny.json",
    "accurate": WEIGHTS_DIR / "LineModelCtc_MixedLinesDataset_ppocr_rec_small.json",
}
DEFAULT_ARTIFACT = LINE_MODELS["default"]
BACKENDS = ("onnx", "keras")
DECODERS = ("greedy", "words")


class LinePredictor:
    """Loads a saved CTC line model once and reads line images with it.

    Confidence is the geometric mean of the per-step probabilities of the decoded path: 1.0 when the model is
    sure at every step, lower with every uncertain step (see `text_recognizer.ctc`). An image without ink
    reads as "" with confidence 1.0.

    Lines written more narrowly than any the model was trained on (fewer ink columns per character read than the
    artifact's `char_width["narrowest"]`) are stretched to the typical training width and read again: scaled to
    the network's height, real lines with tall ascenders and descenders are often that narrow (see
    `text_recognizer.narrow_lines`; lines read as very few characters are read once).

    CTC models decode greedily (the likeliest character at each step) or with a beam search guided by English
    word frequencies ("words", see `text_recognizer.english.WordModel`): that reads English text better (about
    a sixth fewer errors on held-out synthetic lines) but leans towards English words, costs a few ms per line
    and about 0.5 s to load.

    Args:
        model: a shipped model's name ("default" or "accurate", see `LINE_MODELS`) or the path of a model's `.json`;
            its `.weights.h5` (Keras) or `.onnx` (ONNX Runtime) lies beside it.
        backend: "onnx" (default; imports neither TensorFlow nor Keras) or "keras".
        threads: ONNX Runtime threads (0: one per core; 1 suits servers with a worker per core).
        decoder: "greedy" (default) or "words" (CTC models only).
    """

    def __init__(
        self, model: str | Path = "default", backend: str = "onnx", threads: int = 0, decoder: str = "greedy"
    ) -> None:
        artifact = model_artifact(model)
        config = json.loads(artifact.read_text())
        if config.get("preprocessing") != "line_input":
            raise ValueError(f"{artifact} is not a line model (preprocessing {config.get('preprocessing')!r})")
        self.mapping: list[str] = config["mapping"]
        self.height, self.width = config["input_shape"][:2]
        self.variable_width: bool = config["variable_width"]
        self.ctc = config["decoding"] == "ctc"
        if decoder not in DECODERS:
            raise ValueError(f"Unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        if decoder == "words" and not self.ctc:
            raise ValueError(f"{artifact} reads a fixed number of positions; only CTC models take decoder 'words'")
        words: WordModel | None = None
        if decoder == "words":
            from text_recognizer.english import WordModel  # Loaded only for this decoder (about 0.5 s).

            words = WordModel()
        if backend == "onnx":
            run = onnx_runner(artifact.with_suffix(".onnx"), threads)
        elif backend == "keras":
            run = keras_runner(artifact)
        else:
            raise ValueError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        width = None if self.variable_width else self.width
        self.reader = LineReader(run, self.mapping, config["decoding"], width, config.get("char_width"), words)
        self.backend, self.name = backend, artifact.stem

    def predict(self, image: ImageInput, upside_down: bool = False) -> tuple[str, float]:
        """Read one line.

        Args:
            image: path, PIL image or array (H×W or H×W×C); dark ink on paper or white on black.
            upside_down: also read the line turned half a turn, and keep the more confident reading (twice the work).

        Returns:
            The text and its confidence in [0, 1].
        """
        return self.predict_batch([image], upside_down)[0]

    def predict_batch(self, images: Sequence[ImageInput], upside_down: bool = False) -> list[tuple[str, float]]:
        """Read several lines; returns (text, confidence) per image, in order (`upside_down` as in `predict`).

        Lines padded to the same width share one network call, so a line reads the same alone or in any batch
        (see `text_recognizer.line_reader`).
        """
        grays = [load_image(image) for image in images]
        results = self.reader.read(self.preprocess(grays))
        if upside_down:
            turned = self.reader.read(self.preprocess([gray[::-1, ::-1] for gray in grays]))
            results = [max(pair, key=lambda reading: reading[1]) for pair in zip(results, turned, strict=True)]
        return results

    def preprocess(self, images: Sequence[ImageInput]) -> list[np.ndarray]:
        """Each image as the network's input line: uint8 (height, width), width a multiple of 8 or fixed."""
        return [line_input(image, self.height, None if self.variable_width else self.width) for image in images]

    def outputs(self, images: Sequence[ImageInput]) -> np.ndarray:
        """Raw network outputs of one batch of all images (batch, steps, classes), for comparing backends."""
        return self.reader.outputs(self.preprocess(images))


def model_artifact(model: str | Path) -> Path:
    """The `.json` of a shipped line model's name, or the path given; a ValueError names the choices."""
    if isinstance(model, str) and model in LINE_MODELS:
        return LINE_MODELS[model]
    path = Path(model)
    if path.suffix != ".json" or not path.is_file():
        names = ", ".join(LINE_MODELS)
        raise ValueError(f"No line model {str(model)!r}: give one of {names} or the path of a model's .json file")
    return path


def onnx_runner(path: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function that runs the ONNX model at `path` on a batch (`threads`: ONNX Runtime threads, 0: one per core)."""
    import onnxruntime

    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; export it with `python -m text_recognizer.export_onnx`")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    return lambda x: session.run(None, {input_name: x})[0]


def keras_runner(artifact: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A function that runs the Keras network of a saved model (`artifact`: its .json) on a batch."""
    from text_recognizer.models import load_model  # Keras is imported only for this backend.

    model = load_model(artifact)
    return lambda x: np.asarray(model.network.predict_on_batch(x))


def main() -> None:
    """Print the text and confidence for each image path given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+", help="line image files")
    parser.add_argument("--backend", choices=BACKENDS, default="onnx")
    parser.add_argument("--decoder", choices=DECODERS, default="greedy")
    parser.add_argument("--model", default="default", help=f"{' or '.join(LINE_MODELS)}, or a model's .json")
    args = parser.parse_args()
    predictor = LinePredictor(args.model, args.backend, decoder=args.decoder)
    for path, (text, confidence) in zip(args.images, predictor.predict_batch(args.images), strict=True):
        print(f"{path}\t{text!r}\t{confidence:.3f}")


if __name__ == "__main__":
    main()
