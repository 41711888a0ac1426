"""Network builders by experiment-JSON name; every builder takes (input_shape, num_classes, **network_args)."""

from collections.abc import Callable

from text_recognizer.networks.lenet import lenet
from text_recognizer.networks.line_cnn_lstm import line_cnn_lstm
from text_recognizer.networks.mlp import mlp

NETWORKS: dict[str, Callable] = {"mlp": mlp, "lenet": lenet, "line_cnn_lstm": line_cnn_lstm}
