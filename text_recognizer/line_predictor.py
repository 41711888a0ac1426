"""Read a line of handwriting from an image of any size and either polarity (Keras or ONNX Runtime)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from text_recognizer import WEIGHTS_DIR
from text_recognizer.ctc import argmax_decode, greedy_decode, word_beam_search
from text_recognizer.line_codec import blank_index
from text_recognizer.narrow_lines import narrow_stretch, stretch_line
from text_recognizer.preprocessing import INK_THRESHOLD, ImageInput, ink_widths, line_input, load_image, round_up

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
PAD_MULTIPLE = 64  # Lines are padded to a multiple of this width, so few distinct shapes reach the network.


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
        self.blank = blank_index(self.mapping)
        self.char_width: dict[str, float] | None = config.get("char_width") if self.variable_width else None
        if decoder not in DECODERS:
            raise ValueError(f"Unknown decoder {decoder!r}; choose one of {', '.join(DECODERS)}")
        if decoder == "words" and not self.ctc:
            raise ValueError(f"{artifact} reads a fixed number of positions; only CTC models take decoder 'words'")
        self.words: WordModel | None = None
        if decoder == "words":
            from text_recognizer.english import WordModel  # Loaded only for this decoder (about 0.5 s).

            self.words = WordModel()
        if backend == "onnx":
            self._run = onnx_runner(artifact.with_suffix(".onnx"), threads)
        elif backend == "keras":
            self._run = keras_runner(artifact)
        else:
            raise ValueError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
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
        (the backward LSTM would otherwise see each batch's padding).
        """
        grays = [load_image(image) for image in images]
        results = self._read_lines(grays)
        if upside_down:
            turned = self._read_lines([gray[::-1, ::-1] for gray in grays])
            results = [max(pair, key=lambda reading: reading[1]) for pair in zip(results, turned, strict=True)]
        return results

    def _read_lines(self, grays: list[np.ndarray]) -> list[tuple[str, float]]:
        lines = self.preprocess(grays)
        results = self._read_grouped(lines)
        if self.char_width is not None:
            self._reread_narrow(lines, results, self.char_width)
        return results

    def _reread_narrow(
        self, lines: list[np.ndarray], results: list[tuple[str, float]], char_width: dict[str, float]
    ) -> None:
        """Replace the readings of lines narrower per character than the training lines by stretched readings."""
        narrow, stretched = [], []
        for index, (line, (text, _)) in enumerate(zip(lines, results, strict=True)):
            factor = narrow_stretch(int(ink_widths(line[None])[0]), len(text), char_width)
            if factor > 1:
                narrow.append(index)
                stretched.append(stretch_line(line, factor))
        for index, result in zip(narrow, self._read_grouped(stretched), strict=True):
            results[index] = result

    def _read_grouped(self, lines: list[np.ndarray]) -> list[tuple[str, float]]:
        """Read preprocessed lines, one network call per padded width."""
        groups: dict[int, list[int]] = {}
        for index, line in enumerate(lines):
            groups.setdefault(self.padded_width(line.shape[1]), []).append(index)
        results: list[tuple[str, float]] = [("", 1.0)] * len(lines)
        for width, indices in groups.items():
            group = [lines[i] for i in indices]
            for index, result in zip(indices, self._read(group, width), strict=True):
                results[index] = result
        return results

    def _read(self, lines: list[np.ndarray], width: int) -> list[tuple[str, float]]:
        x = self.stack(lines, width)
        outputs = self._run(x)  # (batch, steps, classes): logits for CTC, probabilities per position otherwise.
        if self.ctc:
            lengths = np.array([line.shape[1] for line in lines])
            steps = np.ceil(outputs.shape[1] * lengths / width).astype(int)  # Steps that cover each line.
            if self.words is not None:
                read = [
                    word_beam_search(logits[:n], self.mapping, self.blank, self.words)
                    for logits, n in zip(outputs, steps, strict=True)
                ]
            else:
                read = [(self.text(indices), conf) for indices, conf in greedy_decode(outputs, steps, self.blank)]
        else:
            read = [(self.text(indices), conf) for indices, conf in argmax_decode(outputs, self.blank)]
        inked = x.reshape(len(x), -1).max(axis=1) >= INK_THRESHOLD * 255
        return [result if has_ink else ("", 1.0) for result, has_ink in zip(read, inked, strict=True)]  # No ink: "".

    def text(self, indices: list[int]) -> str:
        """The characters of class indices."""
        return "".join(self.mapping[i] for i in indices)

    def preprocess(self, images: Sequence[ImageInput]) -> list[np.ndarray]:
        """Each image as the network's input line: uint8 (height, width), width a multiple of 8 or fixed."""
        return [line_input(image, self.height, None if self.variable_width else self.width) for image in images]

    def padded_width(self, width: int) -> int:
        """Width a line of `width` is padded to: the next multiple of `PAD_MULTIPLE`, or the fixed input width."""
        return round_up(width, PAD_MULTIPLE) if self.variable_width else self.width

    def stack(self, lines: list[np.ndarray], width: int) -> np.ndarray:
        """Zero-pad lines to `width` and stack them into a float batch (batch, height, width)."""
        x = np.zeros((len(lines), self.height, width), dtype=np.float32)
        for row, line in zip(x, lines, strict=True):
            row[:, : line.shape[1]] = line
        return x

    def outputs(self, images: Sequence[ImageInput]) -> np.ndarray:
        """Raw network outputs of one batch of all images (batch, steps, classes), for comparing backends."""
        lines = self.preprocess(images)
        return self._run(self.stack(lines, max(self.padded_width(line.shape[1]) for line in lines)))


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
