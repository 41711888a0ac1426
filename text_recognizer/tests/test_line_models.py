import keras
import numpy as np
import pytest
import tensorflow as tf

from text_recognizer.ctc import argmax_decode
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.datasets.emnist_lines_dataset import EmnistLinesDataset
from text_recognizer.datasets.sentence_generator import ALPHANUMERIC_CHARS
from text_recognizer.datasets.synthetic_lines import build_line
from text_recognizer.line_codec import MAPPING, decode
from text_recognizer.line_reader import LineReader
from text_recognizer.models import LineModel, LineModelCtc
from text_recognizer.models.line_model import CerCallback
from text_recognizer.narrow_lines import char_widths, stretch_narrow_lines
from text_recognizer.preprocessing import ink_widths


def test_argmax_decode_stops_at_padding():
    probs = np.full((1, 5, 4), 0.1)
    probs[0, np.arange(5), [2, 1, 3, 0, 0]] = 0.7  # padding = 3
    ((indices, confidence),) = argmax_decode(probs, padding=3)
    assert indices == [2, 1] and confidence == pytest.approx(0.7)


def test_ctc_reading_merges_repeats_and_drops_blanks():
    path = [MAPPING.index(c) for c in "aa_abb_"]
    logits = np.full((1, len(path), len(MAPPING)), -10.0, dtype=np.float32)
    logits[0, np.arange(len(path)), path] = 10.0
    inked_line = np.full((32, 64), 255, dtype=np.uint8)
    ((text, confidence),) = LineReader(lambda x: logits, MAPPING, "ctc").read([inked_line])
    assert text == "aab" and confidence == pytest.approx(1.0, abs=1e-6)


def test_ctc_loss_is_the_negative_log_likelihood_of_the_label(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    probs = np.full((1, 2, len(MAPPING)), 1e-9)
    probs[0, :, MAPPING.index("a")], probs[0, :, model.blank] = 0.4, 0.6
    labels = np.full((1, 5), model.blank)
    labels[0, 0] = MAPPING.index("a")
    loss = keras.ops.convert_to_numpy(model.loss()(labels, np.log(probs).astype(np.float32)))
    assert loss == pytest.approx([-np.log(0.64)], abs=1e-4)  # Paths "a_", "_a", "aa".


def test_ctc_loss_matches_keras_ctc_loss_where_labels_fit_and_is_zero_elsewhere(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (5, 8, len(MAPPING))).astype(np.float32)
    logits[4] = logits[0]
    texts = ["hello", "a  b", "", "Ooo 1953!", "hello"]  # Empty, and 9 characters for 8 steps: masked out.
    labels = np.full((5, 12), model.blank)
    for row, text in enumerate(texts):
        labels[row, : len(text)] = [MAPPING.index(c) for c in text]
    fit = [0, 1, 4]
    lengths = (labels[fit] != model.blank).sum(axis=1)
    expected = keras.ops.ctc_loss(labels[fit], logits[fit], lengths, np.full(3, 8), mask_index=model.blank)
    actual = keras.ops.convert_to_numpy(model.loss()(labels, logits))
    np.testing.assert_allclose(actual[fit], keras.ops.convert_to_numpy(expected), rtol=1e-4)
    assert actual[2] == actual[3] == 0 and (actual[fit] > 0).all()
    assert actual[0] == pytest.approx(actual[4], rel=1e-6)  # The same row alike, whatever lies beside it.


def test_ctc_loss_of_a_line_too_narrow_for_its_label_is_zero(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    labels = np.full((3, 5), model.blank)
    labels[0, :4] = [MAPPING.index(c) for c in "abcd"]  # Needs 4 steps; the line gives 3.
    labels[1, :2] = [MAPPING.index(c) for c in "oo"]  # Needs 3 steps (a blank between the repeats): fits.
    labels[2, :3] = [MAPPING.index(c) for c in "aab"]  # Needs 4 steps.
    logits = keras.Variable(np.zeros((3, 3, len(MAPPING)), dtype=np.float32))
    with tf.GradientTape() as tape:
        loss = model.loss()(labels, logits)
    gradient = keras.ops.convert_to_numpy(tape.gradient(loss, logits.value))
    assert keras.ops.convert_to_numpy(loss).tolist()[::2] == [0, 0] and loss[1] > 0
    assert np.isfinite(gradient).all() and not gradient[::2].any()


def test_build_line_places_glyphs_with_overlap():
    glyphs = [np.full((28, 28), v, dtype=np.uint8) for v in (10, 20, 30)]
    image = build_line(glyphs, overlap=0.25, width=100)  # Each glyph starts 21 px after the previous one.
    assert image.shape == (28, 100)
    assert image[0, :21].tolist() == [10] * 21 and image[0, 21:42].tolist() == [20] * 21
    assert image[0, 42:70].tolist() == [30] * 28 and image[:, 70:].max() == 0


def test_emnist_lines_are_built_from_the_characters_of_their_text():
    dataset = EmnistLinesDataset(max_length=10, min_overlap=0.0, max_overlap=0.0, emnist_source="synthetic")
    labels = np.arange(62).repeat(2)
    chars = np.zeros((124, 28, 28), dtype=np.uint8)
    chars[:, 0, 0] = labels + 1  # Each glyph carries its class in one pixel.
    x, y = dataset._split(0, 20, chars, labels)
    assert x.shape == (20, 28, 280) and y.shape == (20, 10)
    for image, label in zip(x, y, strict=True):
        text = decode(label)
        assert text and set(text) <= ALPHANUMERIC_CHARS and text == " ".join(text.split())
        marks = [image[0, 28 * k] for k in range(len(text))]
        assert marks == [0 if c == " " else MAPPING.index(c) + 1 for c in text]


def test_emnist_lines_reject_bad_overlap():
    with pytest.raises(ValueError, match="min_overlap <= max_overlap < 1"):
        EmnistLinesDataset(min_overlap=0.5, max_overlap=0.2)


@pytest.fixture(scope="module")
def emnist_lines(tmp_path_factory):
    """Eight 8-character EMNIST lines (28×224) built from synthetic characters, as a dataset's training split."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path_factory.mktemp("data")))
        dataset = EmnistLinesDataset(max_length=8, max_overlap=0.1, emnist_source="synthetic")
        chars = EmnistDataset(source="synthetic", samples_per_class=2, seed=1)
        chars.load_or_generate_data()
    dataset.x_train, dataset.y_train = dataset._split(0, 8, chars.x_train, chars.y_train)
    return dataset


@pytest.mark.parametrize(
    ("model_class", "network", "epochs", "learning_rate"),
    [
        (LineModel, "line_cnn_all_conv", 40, 5e-3),
        (LineModel, "line_cnn_sliding_window", 20, 5e-3),
        (LineModelCtc, "line_lstm_ctc", 100, 3e-3),
    ],
)
def test_line_models_overfit_one_batch(emnist_lines, model_class, network, epochs, learning_rate):
    keras.utils.set_random_seed(0)
    config = {"dataset": "EmnistLinesDataset", "input_shape": [28, 224], "output_shape": [8, 80], "mapping": MAPPING}
    model = model_class(network, {"dropout_amount": 0.0}, config)
    args = {"overfit_batches": 1, "batch_size": 8, "epochs": epochs, "learning_rate": learning_rate}
    model.fit(emnist_lines, {**args, "early_stopping": False})
    rows, validation_rows = model.fit_rows(emnist_lines, args)
    assert np.array_equal(rows, validation_rows)
    assert model.evaluate(emnist_lines.x_train[rows], emnist_lines.y_train[rows])["cer"] < 0.05  # Untrained: ~1.


def test_line_model_sizes_its_output_to_the_labels(lines):
    model = LineModel("line_cnn_sliding_window", {}, {**lines.config(), "input_shape": [32, 640]})
    assert model.network.output_shape == (None, 12, len(MAPPING))
    assert model.artifact()["decoding"] == "argmax" and model.artifact()["variable_width"] is False


def test_variable_width_batches_are_trimmed_to_their_ink(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    x = np.zeros((2, 32, 640), dtype=np.float32)
    x[0, 5, 70] = x[1, 9, 12] = 255.0
    assert model.format_batch(x, lines.y_train[:2])[0].shape == (2, 32, 96)  # 71 columns, rounded up to 32.
    fixed = LineModel("line_cnn_sliding_window", {}, {**lines.config(), "input_shape": [32, 640]})
    assert fixed.format_batch(x, lines.y_train[:2])[0].shape == (2, 32, 640)


@pytest.mark.parametrize("bucket_widths", [True, False])
def test_training_batches_group_lines_by_width_unless_told_not_to(lines, bucket_widths):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    widths = np.random.default_rng(0).permutation(np.arange(1, 65) * 10)
    x = np.zeros((64, 32, 640), dtype=np.uint8)
    for row, width in enumerate(widths):
        x[row, 8:24, :width] = 255
    y = np.full((64, 4), model.blank)
    batches = model.sequence(x, y, 8, train=True, bucket=bucket_widths)
    members = [np.sort(widths[rows]) for rows in batches.batches]
    assert sorted(np.concatenate(members).tolist()) == sorted(widths.tolist())
    spread = max(np.ptp(m) for m in members)
    assert spread < 200 if bucket_widths else spread > 300  # Random batches mix short and long lines.
    # Each batch is trimmed to its widest line, so buckets feed far fewer padded columns.
    padded = sum(len(m) * batches[i][0].shape[-1] for i, m in enumerate(members))
    assert (padded < 0.7 * 64 * 640) == bucket_widths


def test_char_widths_are_ink_columns_per_labelled_character():
    x = np.zeros((101, 4, 50), dtype=np.uint8)
    y = np.full((101, 6), 9)
    for row in range(100):  # Lines of 4 characters over 40 + row // 10 ink columns; the last line has no label.
        x[row, 1, 39 + row // 10] = 200
        y[row, :4] = 1
    x[100, 1, 10] = 255
    widths = char_widths(x, y, blank=9)
    assert widths == {"narrowest": 10.0, "typical": pytest.approx(11.12, abs=0.01)}


def test_fine_tuning_stretches_lines_narrower_than_the_model_knows():
    x = np.zeros((3, 4, 100), dtype=np.uint8)
    x[:, :, :20] = 200  # 20 ink columns each: for 4 characters, 5 per character.
    y = np.full((3, 6), 9)
    y[0, :4] = y[1, :2] = 1  # Line 1 has too few characters to judge its width.
    y[2, :] = 1  # 6 characters: 3.3 columns each, stretched 3 times (the most), to 64 (a multiple of 8).
    stretched = stretch_narrow_lines(x, y, {"narrowest": 8.0, "typical": 10.0}, blank=9)
    assert ink_widths(stretched).tolist() == [40, 20, 64]
    assert stretched.dtype == np.uint8 and np.array_equal(x[:, :, 20:], np.zeros_like(x[:, :, 20:]))  # x is kept.


def test_fine_tuning_leaves_the_callers_lines_as_they_were(lines):
    model = LineModelCtc("line_cnn_lstm", {}, lines.config())
    model.char_width = {"narrowest": 200.0, "typical": 250.0}  # Known from saved weights: every line here is narrow.
    assert not np.array_equal(stretch_narrow_lines(lines.x_train, lines.y_train, model.char_width, model.blank),
                              lines.x_train)  # fmt: skip
    x_train, x_test = lines.x_train.copy(), lines.x_test.copy()
    model.fit(lines, {"epochs": 1, "batch_size": 8})
    assert np.array_equal(lines.x_train, x_train)  # Training read stretched copies,
    assert np.array_equal(lines.x_test, x_test)  # and test lines are never stretched by their labels.


def test_training_reports_once_when_the_validation_cer_reaches_the_target(capsys):
    class Scores:  # Validation CER of successive epochs.
        cers = iter([0.2, 0.05, 0.04])

        def evaluate(self, x, y):
            return {"cer": next(self.cers), "exact": 0.0}

    callback = CerCallback(Scores(), np.zeros((1, 32, 64)), np.zeros((1, 4)))
    callback.on_train_begin()
    for epoch in range(3):
        callback.on_epoch_end(epoch, {})
    reports = [line for line in capsys.readouterr().out.splitlines() if "target" in line]
    assert len(reports) == 1 and reports[0].startswith("validation CER reached the 5% target after")
    assert reports[0].endswith("(epoch 2)")
