"""Benchmark line recognizers on the same images: CER, exact match and p50 ms/line for Keras, ONNX Runtime (greedy
and word-guided decoding) and Tesseract (where installed), plus cold start to first prediction and training
throughput."""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation.evaluate_line_predictor import synthetic_test_lines
from text_recognizer.datasets.line_folder_dataset import folder_lines
from text_recognizer.line_predictor import DEFAULT_ARTIFACT, LinePredictor
from text_recognizer.metrics import character_error_rate, exact_match_rate
from text_recognizer.preprocessing import ImageInput, load_image, to_ink

TRAIN_BATCH = 32
TRAIN_STEPS = 8
TRAIN_WIDTHS = (640, 320)  # Full training width, and about the mean width of a length-bucketed batch.
COLD_START = (
    "import sys; from text_recognizer.line_predictor import LinePredictor; "
    "LinePredictor(backend=sys.argv[2], decoder=sys.argv[3]).predict(sys.argv[1])"
)


def predictor_reader(backend: str, decoder: str = "greedy") -> Callable[[ImageInput], str]:
    """The shipped line predictor on `backend` with `decoder`, loaded once, as a function from image to text."""
    predictor = LinePredictor(backend=backend, decoder=decoder)
    return lambda image: predictor.predict(image)[0]


def tesseract_reader() -> Callable[[ImageInput], str] | None:
    """Tesseract 5 in single-line mode (`--psm 7`) on dark-on-light images, or None when not installed."""
    if shutil.which("tesseract") is None:
        return None

    def read(image: ImageInput) -> str:
        paper = (255 - to_ink(load_image(image)) * 255).astype(np.uint8)  # Dark ink on white, as Tesseract expects.
        with tempfile.NamedTemporaryFile(suffix=".png") as file:
            Image.fromarray(np.pad(paper, 10, constant_values=255)).save(file.name)
            result = subprocess.run(
                ["tesseract", file.name, "stdout", "--psm", "7"], capture_output=True, text=True, check=True
            )
        return result.stdout.strip()

    return read


def score(read: Callable[[ImageInput], str], images: list, texts: list[str]) -> tuple[float, float, float]:
    """CER, exact-match rate and median milliseconds per line of reading each image alone."""
    predictions, times = [], []
    for image in images:
        start = time.perf_counter()
        predictions.append(read(image))
        times.append(time.perf_counter() - start)
    return (
        character_error_rate(predictions, texts),
        exact_match_rate(predictions, texts),
        statistics.median(times) * 1e3,
    )


def cold_start_s(image: Path, backend: str, decoder: str = "greedy") -> float:
    """Seconds from starting a Python process to its first prediction, on a line image."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD_START, str(image), backend, decoder], check=True, capture_output=True)
    return time.perf_counter() - start


def training_lines_per_s(widths: tuple[int, ...] = TRAIN_WIDTHS) -> dict[int, float]:
    """Training throughput of the shipped line network on batches of lines `width` pixels wide."""
    import keras

    from text_recognizer.models.line_model_ctc import LineModelCtc

    model = LineModelCtc.load(DEFAULT_ARTIFACT)
    height = model.data_config["input_shape"][0]
    model.network.compile(optimizer=keras.optimizers.Adam(1e-4), loss=model.loss())
    rng = np.random.default_rng(0)
    rates = {}
    for width in widths:
        x = rng.integers(0, 256, (TRAIN_BATCH, height, width)).astype(np.float32)
        y = rng.integers(0, model.blank, (TRAIN_BATCH, width // 16))  # A character per 16 columns.
        model.network.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(TRAIN_STEPS):
            model.network.train_on_batch(x, y)
        rates[width] = TRAIN_BATCH * TRAIN_STEPS / (time.perf_counter() - start)
    return rates


def main() -> None:
    """Print one table for the chosen images, then cold start and training throughput."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dir", type=Path, action="append", help="folder of <text>.png (or .jpg) line images (repeatable)"
    )
    parser.add_argument("--synthetic", type=int, default=100, help="held-out synthetic lines to add (0: none)")
    args = parser.parse_args()
    images: list = []
    texts: list[str] = []
    for directory in args.dir or []:
        paths, names = folder_lines(directory)
        images, texts = images + paths, texts + names
    if args.synthetic:
        synthetic, synthetic_texts = synthetic_test_lines(args.synthetic)
        images, texts = images + synthetic, texts + synthetic_texts
    # Each engine is loaded just before it is timed: TensorFlow's thread pools, once loaded, slow ONNX Runtime
    # down, and the ONNX serving path never loads TensorFlow.
    engines: dict[str, Callable[[], Callable[[ImageInput], str] | None]] = {
        "onnx (ours)": functools.partial(predictor_reader, "onnx"),
        "onnx+words (ours)": functools.partial(predictor_reader, "onnx", "words"),
        "keras (ours)": functools.partial(predictor_reader, "keras"),
        "tesseract --psm 7": tesseract_reader,
    }
    print(f"{len(images)} lines ({', '.join(map(str, args.dir or []))} + {args.synthetic} synthetic)")
    print(f"{'engine':<18} {'CER':>7} {'exact':>7} {'p50 ms/line':>12}")
    for name, load in engines.items():
        read = load()
        if read is None:
            print(f"{name:<18} not installed")
            continue
        cer, exact, ms = score(read, images, texts)
        print(f"{name:<18} {cer:>7.4f} {exact:>7.3f} {ms:>12.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "line.png"
        Image.fromarray(np.asarray(load_image(images[0]))).save(sample)
        for backend, decoder in (("onnx", "greedy"), ("onnx", "words"), ("keras", "greedy")):
            seconds = cold_start_s(sample, backend, decoder)
            print(f"cold start, process start to first prediction ({backend}, {decoder}): {seconds:.2f} s")
    for width, lines_per_s in training_lines_per_s().items():
        print(f"training: {lines_per_s:.1f} lines/s on batches of {TRAIN_BATCH} lines {width} px wide")


if __name__ == "__main__":
    main()
