"""Network builders by experiment-JSON name; every builder takes (input_shape, num_classes, **network_args)."""

from collections.abc import Callable

from text_recognizer.networks.fcn import fcn
from text_recognizer.networks.lenet import lenet
from text_recognizer.networks.line_cnn_all_conv import line_cnn_all_conv
from text_recognizer.networks.line_cnn_lstm import line_cnn_lstm
from text_recognizer.networks.line_detector_unet import line_detector_unet
from text_recognizer.networks.mlp import mlp
from text_recognizer.networks.ppocr_rec import ppocr_rec_small, ppocr_rec_tiny
from text_recognizer.networks.sliding_window import line_cnn_sliding_window, line_lstm_ctc

NETWORKS: dict[str, Callable] = {
    "mlp": mlp,
    "lenet": lenet,
    "line_cnn_sliding_window": line_cnn_sliding_window,
    "line_cnn_all_conv": line_cnn_all_conv,
    "line_lstm_ctc": line_lstm_ctc,
    "line_cnn_lstm": line_cnn_lstm,
    "ppocr_rec_tiny": ppocr_rec_tiny,  # PaddleOCR's PP-OCRv6 recognizers, to fine-tune (see `pretrained`).
    "ppocr_rec_small": ppocr_rec_small,
    "fcn": fcn,
    "line_detector_unet": line_detector_unet,
}
