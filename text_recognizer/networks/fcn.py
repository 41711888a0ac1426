"""The FSDL line detector: residual blocks of dilated convolutions at full resolution, no pooling."""

from __future__ import annotations

import keras
from keras import layers

DILATIONS = ((3, 3), (3, 3), (7, 7), (7, 7), (7, 7), (7, 7), (7, 7))  # Two convolutions per residual block.


def fcn(input_shape: tuple[int, ...], num_classes: int, filters: int = 16, kernel_size: int = 7) -> keras.Model:
    """Build residual blocks (two dilated convolutions plus a 1×1 shortcut) and a 1×1 convolution per output map.

    Args:
        input_shape: (height, width, 1) of training pages; the model accepts any size.
        num_classes: output maps.
        filters: filters of every convolution.
        kernel_size: side of the dilated convolutions' kernels.

    Returns:
        An uncompiled model: (batch, height, width, 1) uint8-range → (batch, height, width, maps) probabilities.
    """
    inputs = keras.Input(shape=(None, None, 1))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for first, second in DILATIONS:
        shortcut = layers.Conv2D(filters, 1, padding="same")(x)
        x = layers.Conv2D(filters, kernel_size, dilation_rate=first, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, kernel_size, dilation_rate=second, padding="same")(x)
        x = layers.ReLU()(layers.Add()([x, shortcut]))
    outputs = layers.Conv2D(num_classes, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="fcn")
