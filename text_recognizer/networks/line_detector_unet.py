"""A small U-Net line detector: page context from a pooled path, line edges from the skip connections."""

from __future__ import annotations

import keras
from keras import layers


def _conv_block(x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    return x


def line_detector_unet(
    input_shape: tuple[int, ...], num_classes: int, filters: tuple[int, ...] = (8, 16, 32, 64, 96)
) -> keras.Model:
    """Build an encoder (conv blocks, each halving the size) and a decoder (upsample, join the skip, conv block).

    Args:
        input_shape: (height, width, 1) of training pages; the model accepts any size that is a multiple of
            2 ** (len(filters) - 1).
        num_classes: output maps.
        filters: filters of the conv blocks, from full resolution to the coarsest.

    Returns:
        An uncompiled model: (batch, height, width, 1) uint8-range → (batch, height, width, maps) probabilities.
    """
    multiple = 2 ** (len(filters) - 1)
    if any(side % multiple for side in input_shape[:2]):
        raise ValueError(f"Page sides must be multiples of {multiple} for {len(filters)} levels, got {input_shape}")
    inputs = keras.Input(shape=(None, None, 1))
    x = layers.Rescaling(1.0 / 255)(inputs)
    skips = []
    for level_filters in filters[:-1]:
        x = _conv_block(x, level_filters)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = _conv_block(x, filters[-1])
    for level_filters, skip in zip(reversed(filters[:-1]), reversed(skips), strict=True):
        x = layers.UpSampling2D(2)(x)
        x = _conv_block(layers.Concatenate()([x, skip]), level_filters)
    outputs = layers.Conv2D(num_classes, 1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="line_detector_unet")
