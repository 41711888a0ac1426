from pathlib import Path

import keras
import numpy as np
import pytest

from text_recognizer.ctc import greedy_decode, required_steps
from text_recognizer.datasets.handwriting import find_fonts
from text_recognizer.datasets.synthetic_characters import MissingTestFonts, split_fonts
from text_recognizer.datasets.synthetic_lines import (
    CHAR_SIZE,
    MAX_SLOPE_RISE,
    MIN_CHAR_WIDTH,
    boxed_glyphs,
    distort_line,
    widen,
)
from text_recognizer.line_codec import BLANK, decode, encode
from text_recognizer.metrics import character_error_rate, exact_match_rate
from text_recognizer.models import LineModelCtc


def test_encode_decode_round_trip_and_errors():
    label = encode("Hi, you!", 12)
    assert label.shape == (12,) and label[-1] == BLANK and decode(label) == "Hi, you!"
    with pytest.raises(ValueError, match="unknown characters \\['é'\\]"):
        encode("café", 12)
    with pytest.raises(ValueError, match="longer than 3"):
        encode("abcd", 3)


def test_greedy_decode_merges_repeats_and_drops_blanks():
    steps = [0, 0, 3, 3, 3, 0, 3, 5, 5]  # blank=0: "a a b" pattern → [3, 3, 5]
    logits = np.full((1, len(steps), 6), -10.0)
    logits[0, np.arange(len(steps)), steps] = 10.0
    ((indices, confidence),) = greedy_decode(logits, np.array([len(steps)]), blank=0)
    assert indices == [3, 3, 5] and confidence > 0.99
    ((short, _),) = greedy_decode(logits, np.array([4]), blank=0)
    assert short == [3]


def test_required_steps_counts_repeats():
    assert required_steps(np.array([1, 1, 2, 9, 9]), blank=9) == 4  # "aab": a, blank, a, b


def test_metrics():
    assert character_error_rate(["abc", "x"], ["abd", "xy"]) == pytest.approx(2 / 5)
    assert exact_match_rate(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        character_error_rate(["a", "b"], ["a"])


def test_synthetic_lines_shapes_and_labels(lines):
    assert lines.x_train.shape == (16, 32, 640) and lines.x_train.dtype == np.uint8
    assert lines.y_train.shape == (16, 12)
    assert all(0 < len(decode(y)) <= 12 for y in lines.y_train)
    assert lines.x_train[:, :, -40:].max() == 0  # Short texts are left-aligned with empty padding.
    assert lines.x_train.reshape(16, -1).max(axis=1).min() > 100  # Every line has ink.


def test_boxed_lines_give_each_character_its_own_box():
    fonts = find_fonts()[:3]
    ink = boxed_glyphs("a 1", fonts, np.random.default_rng(0))
    assert ink.shape == (CHAR_SIZE, 3 * CHAR_SIZE)
    assert ink[:, :CHAR_SIZE].max() > 0.5 and ink[:, CHAR_SIZE:].max() > 0.5
    assert not boxed_glyphs("   ", fonts, np.random.default_rng(0)).any()  # Spaces are empty boxes.


def test_held_out_fonts_are_named_and_disjoint():
    fonts = tuple(Path(f"/fonts/{name}.ttf") for name in ("Alpha", "dkgBI", "Beta", "KaushanScript-Regular"))
    sets = split_fonts(fonts)
    assert [f.stem for f in sets["train"]] == ["Alpha", "Beta"]
    assert [f.stem for f in sets["test"]] == ["dkgBI", "KaushanScript-Regular"]
    with pytest.raises(MissingTestFonts, match="needs the held-out test fonts ComicNeue-LightItalic, .* not installed"):
        split_fonts(fonts[:1])


def test_long_lines_slope_too_little_to_shrink_their_text():
    ink = np.zeros((60, 1500), dtype=np.float32)
    ink[20:40, 10:-10] = 1.0  # A 20-px-high band of text across a long line.
    for seed in range(20):
        rows = np.flatnonzero(distort_line(ink, np.random.default_rng(seed)).max(axis=1) > 0.5)
        assert rows[-1] - rows[0] + 1 <= 20 + MAX_SLOPE_RISE + 2  # The rise, plus a pixel of resampling each side.


def test_condensed_lines_are_widened_to_readable_characters():
    ink = np.zeros((30, 120), dtype=np.float32)
    ink[5:25, 10:110] = 1.0  # 20 px high, 100 px wide.
    assert widen(ink, 10) is ink  # 10 px per character is wide enough.
    widened = widen(ink, 40)  # 2.5 px per character is not.
    columns = np.flatnonzero(widened.max(axis=0) > 0.5)
    assert widened.shape[0] == 30 and columns[-1] - columns[0] + 1 >= MIN_CHAR_WIDTH * 20 * 40 - 2


def test_line_model_overfits_one_batch(lines):
    keras.utils.set_random_seed(0)
    model = LineModelCtc("line_cnn_lstm", {"dropout_amount": 0.0}, lines.config())
    args = {"overfit_batches": 1, "batch_size": 4, "epochs": 200, "learning_rate": 5e-3, "lr_decay": True}
    model.fit(lines, {**args, "early_stopping": False})
    rows, validation_rows = model.fit_rows(lines, args)
    assert np.array_equal(rows, validation_rows) and len(rows) == 4
    assert model.evaluate(lines.x_train[rows], lines.y_train[rows])["cer"] < 0.05  # Untrained, CER is about 1.


def test_ctc_length_guard(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    with pytest.raises(ValueError, match="needs 23 CTC steps .* 40-px lines give 10"):
        model.check_lengths(np.zeros((1, 12), dtype=int), width=40)
