"""CNN + bidirectional LSTM line recognizer for CTC on lines of any width."""

from __future__ import annotations

import keras
from keras import layers

POOLS = {  # Height H → H / 16; width W → W / step_width (one output step per step_width columns).
    4: ((2, 2), (2, 2), (2, 1), (2, 1)),
    2: ((2, 2), (2, 1), (2, 1), (2, 1)),
}


def line_cnn_lstm(
    input_shape: tuple[int, ...],
    num_classes: int,
    conv_filters: tuple[int, ...] = (16, 32, 64, 96),
    lstm_units: int = 128,
    lstm_layers: int = 1,
    dropout_amount: float = 0.2,
    step_width: int = 4,
    batch_norm_from: int = 0,
) -> keras.Model:
    """Build conv blocks (conv-[BN]-ReLU-pool) → per-column features → stacked BiLSTM → per-step logits.

    Args:
        input_shape: (height, width) of training lines; the model accepts any width (a multiple of 4).
        num_classes: classes including the CTC blank.
        conv_filters: filters of the four conv blocks.
        lstm_units: units per LSTM direction.
        lstm_layers: number of stacked bidirectional LSTMs.
        dropout_amount: dropout before each LSTM.
        step_width: input columns per output step, 4 or 2 (finer steps separate narrow letters, at more cost).
        batch_norm_from: first conv block with batch normalization (4: none); earlier blocks, on the largest maps,
            add a bias instead (batch normalization there costs much CPU time).

    Returns:
        An uncompiled model: (batch, height, width) uint8-range → (batch, width / step_width, classes) logits.
    """
    if step_width not in POOLS:
        raise ValueError(f"step_width must be one of {sorted(POOLS)}, got {step_width}")
    pools = POOLS[step_width]
    if len(conv_filters) != len(pools):
        raise ValueError(f"conv_filters needs {len(pools)} values, got {conv_filters}")
    if not 0 <= batch_norm_from <= len(pools):
        raise ValueError(f"batch_norm_from must be a block index from 0 to {len(pools)}, got {batch_norm_from}")
    height = input_shape[0]
    if height % 16:
        raise ValueError(f"Line height must be a multiple of 16, got {height}")
    inputs = keras.Input(shape=(height, None))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Reshape((height, -1, 1))(x)  # (H, W, 1)
    for block, (filters, pool) in enumerate(zip(conv_filters, pools, strict=True)):
        normalize = block >= batch_norm_from
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not normalize)(x)
        if normalize:
            x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(pool)(x)
    x = layers.Permute((2, 1, 3))(x)  # (W/step, H/16, C)
    x = layers.Reshape((-1, height // 16 * conv_filters[-1]))(x)  # (W/step, H/16 * C)
    for _ in range(lstm_layers):
        x = layers.Dropout(dropout_amount)(x)
        x = layers.Bidirectional(layers.LSTM(lstm_units, return_sequences=True))(x)  # (W/step, 2 * units)
    outputs = layers.Dense(num_classes)(x)  # (W/step, num_classes) logits
    return keras.Model(inputs, outputs, name="line_cnn_lstm")
