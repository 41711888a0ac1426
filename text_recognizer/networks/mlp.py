"""Multi-layer perceptron for single characters."""

from __future__ import annotations

import keras
from keras import layers


def mlp(
    input_shape: tuple[int, ...],
    num_classes: int,
    layer_size: int = 128,
    dropout_amount: float = 0.2,
    num_layers: int = 3,
) -> keras.Model:
    """Build Flatten → [Dense relu, Dropout] × num_layers → Dense softmax.

    Args:
        input_shape: image shape, e.g. (28, 28).
        num_classes: number of output classes.
        layer_size: units per hidden layer.
        dropout_amount: dropout rate after every hidden layer.
        num_layers: number of hidden layers.

    Returns:
        An uncompiled model mapping uint8-range images to class probabilities.
    """
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Flatten()(x)
    for _ in range(num_layers):
        x = layers.Dense(layer_size, activation="relu")(x)
        x = layers.Dropout(dropout_amount)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="mlp")
