"""Sliding-window line networks (FSDL): LeNet features of every window, mapped to a fixed-length output."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from text_recognizer.networks.lenet import lenet


def window_features(inputs: Any, input_shape: tuple[int, ...], window_width: int, window_stride: int) -> Any:
    """LeNet's penultimate features for each `window_width`-wide window, every `window_stride` columns.

    Returns:
        A tensor (batch, num_windows, 128).
    """
    height, width = input_shape[:2]
    if window_width > width or window_stride < 1:
        raise ValueError(f"Need 1 <= window_stride and window_width <= {width}, got {window_width}, {window_stride}")
    num_windows = (width - window_width) // window_stride + 1
    x = layers.Reshape((height, width, 1))(inputs)
    x = ops.image.extract_patches(x, (height, window_width), strides=(height, window_stride))  # (1, n, H·w)
    x = layers.Reshape((num_windows, height, window_width, 1))(x)
    convnet = lenet((height, window_width, 1), 1)
    features = keras.Model(convnet.inputs, convnet.layers[-2].output)  # Drop LeNet's classifier.
    return layers.TimeDistributed(features)(x)  # (n, 128)


def to_output_length(x: Any, num_steps: int, output_length: int, num_classes: int) -> Any:
    """Map `num_steps` features to `output_length` softmax outputs with one strided convolution (FSDL's trick)."""
    if num_steps < output_length:
        raise ValueError(f"{num_steps} steps cannot make {output_length} outputs; use wider lines or a smaller stride")
    group = num_steps // output_length
    x = layers.Conv1D(num_classes, group, strides=group)(x)  # (num_steps // group ≥ output_length, classes)
    x = layers.Cropping1D((0, num_steps // group - output_length))(x)  # (output_length, classes)
    return layers.Softmax()(x)


def line_cnn_sliding_window(
    input_shape: tuple[int, ...],
    num_classes: int,
    output_length: int = 34,
    window_width: int = 16,
    window_stride: int = 8,
    dropout_amount: float = 0.2,
) -> keras.Model:
    """Build LeNet over sliding windows → per-position softmax, for cross-entropy on padded labels.

    Args:
        input_shape: (height, width) of the fixed-width lines.
        num_classes: classes including the padding symbol.
        output_length: label length (the dataset's max_length).
        window_width: window width in pixels.
        window_stride: columns between windows.
        dropout_amount: dropout on the window features.

    Returns:
        An uncompiled model: (batch, height, width) uint8-range → (batch, output_length, num_classes) probabilities.
    """
    inputs = keras.Input(shape=input_shape[:2])
    features = window_features(inputs, input_shape, window_width, window_stride)
    x = layers.Dropout(dropout_amount)(features)
    outputs = to_output_length(x, features.shape[1], output_length, num_classes)
    return keras.Model(inputs, outputs, name="line_cnn_sliding_window")


def line_lstm_ctc(
    input_shape: tuple[int, ...],
    num_classes: int,
    window_width: int = 28,
    window_stride: int = 14,
    lstm_units: int = 128,
    lstm_layers: int = 1,
    bidirectional: bool = True,
    dropout_amount: float = 0.2,
) -> keras.Model:
    """Build LeNet over sliding windows → (Bi)LSTM stack → per-window logits, for CTC.

    Args:
        input_shape: (height, width) of the fixed-width lines.
        num_classes: classes including the CTC blank.
        window_width: window width in pixels.
        window_stride: columns between windows (one output step per window).
        lstm_units: units per LSTM (per direction).
        lstm_layers: number of stacked LSTMs.
        bidirectional: read the windows in both directions.
        dropout_amount: dropout before each LSTM.

    Returns:
        An uncompiled model: (batch, height, width) uint8-range → (batch, num_windows, num_classes) logits.
    """
    inputs = keras.Input(shape=input_shape[:2])
    x = window_features(inputs, input_shape, window_width, window_stride)
    for _ in range(lstm_layers):
        x = layers.Dropout(dropout_amount)(x)
        lstm = layers.LSTM(lstm_units, return_sequences=True)
        x = layers.Bidirectional(lstm)(x) if bidirectional else lstm(x)  # (n, units or 2·units)
    outputs = layers.Dense(num_classes)(x)  # (n, num_classes) logits
    return keras.Model(inputs, outputs, name="line_lstm_ctc")
