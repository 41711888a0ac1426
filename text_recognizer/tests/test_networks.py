import keras
import numpy as np
import pytest

from text_recognizer.models.base import build_network
from text_recognizer.networks import NETWORKS

# (input_shape, num_classes, expected output shape without the batch axis) for every registered network.
NETWORK_SHAPES = {
    "mlp": ((28, 28), 80, (80,)),
    "lenet": ((28, 28), 80, (80,)),
    "line_cnn_sliding_window": ((28, 952), 80, (34, 80)),
    "line_cnn_all_conv": ((28, 952), 80, (34, 80)),
    "line_lstm_ctc": ((28, 952), 80, (67, 80)),
    "line_cnn_lstm": ((32, 640), 80, (160, 80)),
    "ppocr_rec_tiny": ((48, 320), 80, (40, 80)),
    "ppocr_rec_small": ((48, 320), 80, (40, 80)),
    "fcn": ((32, 48, 1), 2, (32, 48, 2)),
    "line_detector_unet": ((32, 48, 1), 2, (32, 48, 2)),
}


def test_every_network_has_a_shape_case():
    assert set(NETWORKS) == set(NETWORK_SHAPES)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_network_builds_with_finite_outputs_of_the_right_shape(name):
    input_shape, num_classes, output_shape = NETWORK_SHAPES[name]
    network = build_network(name, input_shape, num_classes, {})
    x = np.random.default_rng(0).uniform(0, 255, (2, *input_shape)).astype(np.float32)
    y = np.asarray(network(x, training=False))
    assert y.shape == (2, *output_shape)
    assert np.isfinite(y).all()


def test_unknown_network_lists_choices():
    with pytest.raises(
        ValueError,
        match="valid networks: fcn, lenet, line_cnn_all_conv, line_cnn_lstm, line_cnn_sliding_window, "
        "line_detector_unet, line_lstm_ctc, mlp, ppocr_rec_small, ppocr_rec_tiny",
    ):
        build_network("resnet", (28, 28), 80, {})


def test_bad_network_argument_lists_valid_ones():
    with pytest.raises(ValueError, match="valid arguments: layer_size, dropout_amount, num_layers"):
        build_network("mlp", (28, 28), 80, {"layers": 3})


def test_line_network_reads_any_width():
    network = build_network("line_cnn_lstm", (32, 640), 80, {})
    assert np.asarray(network(np.zeros((1, 32, 200), dtype=np.float32))).shape == (1, 50, 80)


def test_line_network_rejects_bad_height():
    with pytest.raises(ValueError, match="multiple of 16"):
        build_network("line_cnn_lstm", (28, 640), 80, {})


def test_sliding_window_outputs_sum_to_one():
    network = build_network("line_cnn_sliding_window", (28, 952), 80, {"output_length": 20})
    y = np.asarray(network(np.zeros((1, 28, 952), dtype=np.float32), training=False))
    assert y.shape == (1, 20, 80)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-5)


def test_too_few_windows_for_the_labels_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot make 34 outputs"):
        build_network("line_cnn_sliding_window", (28, 280), 80, {"window_stride": 16})


def test_unidirectional_stacked_lstm_ctc():
    network = build_network("line_lstm_ctc", (28, 280), 80, {"bidirectional": False, "lstm_layers": 2})
    assert np.asarray(network(np.zeros((1, 28, 280), dtype=np.float32))).shape == (1, 19, 80)


def test_line_network_with_finer_steps():
    network = build_network("line_cnn_lstm", (32, 640), 80, {"step_width": 2})
    assert np.asarray(network(np.zeros((1, 32, 200), dtype=np.float32))).shape == (1, 100, 80)
    with pytest.raises(ValueError, match="step_width must be one of \\[2, 4\\], got 3"):
        build_network("line_cnn_lstm", (32, 640), 80, {"step_width": 3})


def test_line_network_batch_normalizes_from_the_given_block():
    network = build_network("line_cnn_lstm", (32, 640), 80, {"batch_norm_from": 2})
    convs = [layer for layer in network.layers if isinstance(layer, keras.layers.Conv2D)]
    norms = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert [conv.use_bias for conv in convs] == [True, True, False, False]
    assert len(norms) == 2
    with pytest.raises(ValueError, match="batch_norm_from must be a block index from 0 to 4, got 5"):
        build_network("line_cnn_lstm", (32, 640), 80, {"batch_norm_from": 5})


@pytest.mark.parametrize("name", ["ppocr_rec_tiny", "ppocr_rec_small"])
def test_pretrained_networks_read_any_width_at_32_or_48_px(name):
    for height in (32, 48):
        network = build_network(name, (height, 640), 80, {})
        assert np.asarray(network(np.zeros((1, height, 200), dtype=np.float32))).shape == (1, 25, 80)
    with pytest.raises(ValueError, match="multiple of 16 \\(48 as trained\\), got 40"):
        build_network(name, (40, 640), 80, {})
