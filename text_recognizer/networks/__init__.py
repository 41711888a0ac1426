"""Network builders by experiment-JSON name; every builder takes (input_shape, num_classes, **network_args)."""

from collections.abc import Callable

from text_recognizer.networks.fcn import fcn
from text_recognizer.networks.lenet import lenet
from text_recognizer.networks.line_cnn_all_conv import line_cnn_all_conv
from text_recognizer.networks.line_cnn_lstm import line_cnn_lstm
from text_recognizer.networks.line_detector_unet import line_detector_unet
from text_recognizer.networks.mlp import mlp
from text_recognizer.networks.sliding_window import line_cnn_sliding_window, line_lstm_ctc

NETWORKS: dict[str, Callable] = {
    "mlp": mlp,
    "lenet": lenet,
    "line_cnn_sliding_window": line_cnn_sliding_window,
    "line_cnn_all_conv": line_cnn_all_conv,
    "line_lstm_ctc": line_lstm_ctc,
    "line_cnn_lstm": line_cnn_lstm,
    "fcn": fcn,
    "line_detector_unet": line_detector_unet,
}
