"""All-convolutional line network: conv blocks over the whole line, then a strided 1-D conv to the label length."""

from __future__ import annotations

import keras
from keras import layers

from text_recognizer.networks.sliding_window import to_output_length


def line_cnn_all_conv(
    input_shape: tuple[int, ...],
    num_classes: int,
    output_length: int = 34,
    conv_filters: tuple[int, ...] = (32, 64, 128),
    dropout_amount: float = 0.2,
) -> keras.Model:
    """Build conv-ReLU-pool blocks (height and width /2 each) → full-height conv → per-position softmax.

    Args:
        input_shape: (height, width) of the fixed-width lines.
        num_classes: classes including the padding symbol.
        output_length: label length (the dataset's max_length).
        conv_filters: filters of the conv blocks; each block halves height and width.
        dropout_amount: dropout before the output convolution.

    Returns:
        An uncompiled model: (batch, height, width) uint8-range → (batch, output_length, num_classes) probabilities.
    """
    height, width = input_shape[:2]
    inputs = keras.Input(shape=(height, width))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Reshape((height, width, 1))(x)
    for filters in conv_filters:
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)  # (H/2^k, W/2^k, filters)
    x = layers.Conv2D(conv_filters[-1], (x.shape[1], 1), activation="relu")(x)  # (1, W/2^k, filters)
    x = layers.Reshape((x.shape[2], conv_filters[-1]))(x)
    x = layers.Dropout(dropout_amount)(x)
    outputs = to_output_length(x, x.shape[1], output_length, num_classes)
    return keras.Model(inputs, outputs, name="line_cnn_all_conv")
