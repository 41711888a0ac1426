"""LeNet-style convolutional network for single characters."""

from __future__ import annotations

import keras
from keras import layers


def lenet(input_shape: tuple[int, ...], num_classes: int, dropout_amount: float = 0.2) -> keras.Model:
    """Build Conv32 → Conv64 → MaxPool → Dropout → Dense128 → Dropout → Dense softmax (FSDL LeNet).

    Args:
        input_shape: image shape, (H, W) or (H, W, 1).
        num_classes: number of output classes.
        dropout_amount: dropout rate after pooling and after the dense layer.

    Returns:
        An uncompiled model mapping uint8-range images to class probabilities.
    """
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    if len(input_shape) == 2:
        x = layers.Reshape((*input_shape, 1))(x)  # (H, W, 1)
    x = layers.Conv2D(32, 3, activation="relu")(x)  # (H-2, W-2, 32)
    x = layers.Conv2D(64, 3, activation="relu")(x)  # (H-4, W-4, 64)
    x = layers.MaxPooling2D(2)(x)  # ((H-4)/2, (W-4)/2, 64)
    x = layers.Dropout(dropout_amount)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(dropout_amount)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="lenet")
