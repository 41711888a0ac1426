"""PaddleOCR's PP-OCRv6 text-line recognizers (tiny and small) rebuilt in Keras 3, so that their published weights
(see `text_recognizer.pretrained`) can be loaded and fine-tuned.

Both read a line through a RepViT-style backbone (depthwise 3×3 token mixers with squeeze-excite in some blocks,
1×1 channel mixers with exact GELU, batch normalization folded into the convolutions) that takes the height down
16 times and the width 8 times; tiny adds a convolutional neck and two linear layers, small a convolutional neck,
two pre-norm transformer layers and one linear layer. Weighted layers are named in the order of the published
graph's weights, which the loader relies on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import keras
from keras import layers, ops

SE_REDUCTION = 4  # Squeeze-excite bottleneck: channels / 4.
NORM_EPSILON = 1e-5  # Of every batch and layer normalization in the published networks.
BN_MOMENTUM = 0.9
TINY_STAGES = ((48, (True, False)), (96, (True, False)), (160, (True, False, False)))  # Channels, SE per block.
SMALL_STAGES = ((96, (True, False, False)), (192, (True, False, True, False, True, False)), (384, (True, False)))
SMALL_NECK, SMALL_HEADS, SMALL_LAYERS, SMALL_KERNEL = 120, 8, 2, 7
TINY_NECK_KERNEL, TINY_HIDDEN = 5, 80
# The network's input is a line as every line network here reads it: ink white on black, 0-255. PaddleOCR trained
# on dark text on light paper scaled to [-1, 1] in three (B, G, R) channels; for a gray line those are equal, so the
# first layer maps ink 255 to -1 and paper 0 to 1, and the loader sums the first convolution over the channels.
INK_SCALE, PAPER_LEVEL = -2.0 / 255.0, 1.0


def gelu(x: Any) -> Any:
    """Exact GELU, with erf (the approximation and Keras's own exact form export to ops ONNX converters lack), in
    the order of operations that the ONNX export fuses into one node."""
    return x * ((ops.erf(x / math.sqrt(2.0)) + 1.0) * 0.5)


def hard_sigmoid(x: Any) -> Any:
    """min(max(x / 6 + 1/2, 0), 1), as PaddleOCR's HardSigmoid."""
    return ops.relu6(x + 3.0) / 6.0


def hard_swish(x: Any) -> Any:
    """x · hard_sigmoid(x)."""
    return x * hard_sigmoid(x)


def swish(x: Any) -> Any:
    """x · sigmoid(x)."""
    return x * ops.sigmoid(x)


class LayerNorm(layers.Layer):
    """Layer normalization over the last axis written in primitive ops (mean, variance, square root), which every
    backend and the ONNX export handle alike."""

    def build(self, input_shape: tuple) -> None:
        """Make the scale and offset."""
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, x: Any) -> Any:
        """Normalize each position's features."""
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        variance = ops.mean(centred * centred, axis=-1, keepdims=True)
        return centred / ops.sqrt(variance + NORM_EPSILON) * self.gamma + self.beta


class SelfAttention(layers.Layer):
    """Multi-head attention over the steps of a line, from its stacked queries, keys and values (batch, steps, 3C)."""

    def __init__(self, heads: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heads = heads

    def call(self, qkv: Any) -> Any:
        """(batch, steps, 3 · C) → (batch, steps, C)."""
        channels = qkv.shape[-1] // 3
        head_size = channels // self.heads
        steps = ops.shape(qkv)[1]
        qkv = ops.transpose(ops.reshape(qkv, (-1, steps, 3, self.heads, head_size)), (2, 0, 3, 1, 4))
        query, key, value = qkv[0] * (head_size**-0.5), qkv[1], qkv[2]  # (batch, heads, steps, head_size)
        weights = ops.softmax(ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))), axis=-1)
        out = ops.transpose(ops.matmul(weights, value), (0, 2, 1, 3))  # (batch, steps, heads, head_size)
        return ops.reshape(out, (-1, steps, channels))

    def get_config(self) -> dict[str, Any]:
        """Serializable arguments."""
        return {**super().get_config(), "heads": self.heads}


class Names:
    """Layer names numbered in creation order: the order of the published graph's weights."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, kind: str) -> str:
        """The next name, for a layer of `kind`."""
        self.count += 1
        return f"{self.count:03d}_{kind}"


def _conv(x: Any, names: Names, filters: int, kernel: int | tuple, stride: int | tuple = 1, bias: bool = True) -> Any:
    """A convolution padded alike on both sides, as PaddleOCR's (Keras pads stride-2 "same" more at the end)."""
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    if stride != 1:
        x = layers.ZeroPadding2D((kernel[0] // 2, kernel[1] // 2))(x)
    padding = "valid" if stride != 1 else "same"
    return layers.Conv2D(filters, kernel, stride, padding=padding, use_bias=bias, name=names("conv"))(x)


def _depthwise(x: Any, names: Names, kernel: tuple = (3, 3), stride: tuple = (1, 1), bias: bool = True) -> Any:
    if stride != (1, 1):
        x = layers.ZeroPadding2D((kernel[0] // 2, kernel[1] // 2))(x)
    padding = "valid" if stride != (1, 1) else "same"
    return layers.DepthwiseConv2D(kernel, stride, padding=padding, use_bias=bias, name=names("dwconv"))(x)


def _batch_norm(x: Any, names: Names) -> Any:
    return layers.BatchNormalization(epsilon=NORM_EPSILON, momentum=BN_MOMENTUM, name=names("bn"))(x)


def _act(fn: Callable) -> layers.Layer:
    return layers.Activation(fn)


def _squeeze_excite(x: Any, names: Names) -> Any:
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.ReLU()(_conv(s, names, channels // SE_REDUCTION, 1))
    return layers.Multiply()([x, _act(hard_sigmoid)(_conv(s, names, channels, 1))])


def _block(x: Any, names: Names, se: bool) -> Any:
    """Token mixer (depthwise 3×3, optional squeeze-excite), then a residual channel mixer (1×1, GELU, 1×1)."""
    x = _depthwise(x, names)
    if se:
        x = _squeeze_excite(x, names)
    channels = x.shape[-1]
    mixed = _conv(_act(gelu)(_conv(x, names, 2 * channels, 1)), names, channels, 1)
    return layers.Add()([x, mixed])


def _downsample(x: Any, names: Names, channels: int) -> Any:
    """Halve the height (depthwise 3×3, stride (2, 1)), then 1×1 to twice the channels, GELU, 1×1 to `channels`."""
    x = _depthwise(x, names, stride=(2, 1))
    return _conv(_act(gelu)(_conv(x, names, 2 * x.shape[-1], 1)), names, channels, 1)


def _stages(x: Any, names: Names, stages: tuple) -> Any:
    for index, (channels, se_flags) in enumerate(stages):
        if index:
            x = _downsample(x, names, channels)
        for se in se_flags:
            x = _block(x, names, se)
    return x


def _line_input(input_shape: tuple[int, ...]) -> tuple[keras.KerasTensor, Any, int]:
    """The input (batch, height, width) and its PaddleOCR-normalised one-channel image; the pooling height."""
    height = input_shape[0]
    if height % 16:
        raise ValueError(
            f"PP-OCR recognizers read lines whose height is a multiple of 16 (48 as trained), got {height}"
        )
    inputs = keras.Input(shape=(height, None))
    x = layers.Rescaling(INK_SCALE, offset=PAPER_LEVEL)(inputs)
    return inputs, layers.Reshape((height, -1, 1))(x), height // 16


def _pool_to_steps(x: Any, pool_height: int) -> Any:
    """The backbone's (height / 16, width / 4) map averaged to one row of width / 8 steps: (batch, 1, steps, C)."""
    return layers.AveragePooling2D((pool_height, 2), (pool_height, 2))(x)


def _steps(x: Any) -> Any:
    """(batch, 1, steps, C) → (batch, steps, C)."""
    return layers.Reshape((-1, x.shape[-1]))(x)


def ppocr_rec_tiny(input_shape: tuple[int, ...], num_classes: int, dropout_amount: float = 0.0) -> keras.Model:
    """Build PP-OCRv6 tiny's recognizer (1.1 M parameters with its 6,906 classes).

    Args:
        input_shape: (height, width) of training lines; height a multiple of 16 (48 as published; at 32 the last
            pooling is (2, 2) instead of (3, 2)); any width is read.
        num_classes: classes including the CTC blank.
        dropout_amount: dropout before the classifier (fine-tuning).

    Returns:
        An uncompiled model: (batch, height, width) ink 0-255 → (batch, width / 8, classes) logits.
    """
    names = Names()
    inputs, x, pool_height = _line_input(input_shape)
    x = _act(gelu)(_batch_norm(_conv(x, names, 24, 3, 2, bias=False), names))
    x = _batch_norm(_conv(x, names, TINY_STAGES[0][0], 3, 2, bias=False), names)
    x = _pool_to_steps(_stages(x, names, TINY_STAGES), pool_height)
    channels = x.shape[-1]
    x = _act(hard_swish)(_batch_norm(_depthwise(x, names, (1, TINY_NECK_KERNEL), bias=False), names))
    x = _act(hard_swish)(_batch_norm(_conv(x, names, channels, 1, bias=False), names))
    x = layers.Dense(TINY_HIDDEN, name=names("dense"))(_steps(x))
    x = layers.Dropout(dropout_amount)(x)
    outputs = layers.Dense(num_classes, name=names("head"))(x)
    return keras.Model(inputs, outputs, name="ppocr_rec_tiny")


def ppocr_rec_small(input_shape: tuple[int, ...], num_classes: int, dropout_amount: float = 0.0) -> keras.Model:
    """Build PP-OCRv6 small's recognizer (5.3 M parameters with its 18,710 classes).

    Args:
        input_shape: (height, width) of training lines; height a multiple of 16 (48 as published); any width.
        num_classes: classes including the CTC blank.
        dropout_amount: dropout before the classifier (fine-tuning).

    Returns:
        An uncompiled model: (batch, height, width) ink 0-255 → (batch, width / 8, classes) logits.
    """
    names = Names()
    inputs, x, pool_height = _line_input(input_shape)
    stem = layers.ReLU()(_conv(x, names, 48, 3, 2))
    branch = layers.ReLU()(_conv(stem, names, 24, 2))
    branch = layers.ReLU()(_conv(branch, names, 48, 2))
    pooled = layers.MaxPooling2D(2, 1, padding="same")(stem)
    x = layers.Concatenate()([pooled, branch])
    x = layers.ReLU()(_conv(x, names, 48, 3, 2))
    x = layers.ReLU()(_conv(x, names, SMALL_STAGES[0][0], 1))
    x = _pool_to_steps(_stages(x, names, SMALL_STAGES), pool_height)
    shortcut = _act(swish)(_batch_norm(_conv(x, names, SMALL_NECK, 1, bias=False), names))
    x = _act(swish)(_batch_norm(_conv(x, names, SMALL_NECK, 1, bias=False), names))
    mixed = _act(swish)(_batch_norm(_depthwise(x, names, (1, SMALL_KERNEL), bias=False), names))
    x = _steps(layers.Add()([x, mixed]))
    for _ in range(SMALL_LAYERS):
        x = _transformer_layer(x, names)
    x = layers.Add()([LayerNorm(name=names("norm"))(x), _steps(shortcut)])
    x = layers.Dropout(dropout_amount)(x)
    outputs = layers.Dense(num_classes, name=names("head"))(x)
    return keras.Model(inputs, outputs, name="ppocr_rec_small")


def _transformer_layer(x: Any, names: Names) -> Any:
    """Pre-norm transformer layer: x + attention(norm(x)), then x + MLP(norm(x)) with swish."""
    channels = x.shape[-1]
    normed = LayerNorm(name=names("norm"))(x)  # Each layer is made before the next: names follow the graph's order.
    qkv = layers.Dense(3 * channels, name=names("qkv"))(normed)
    x = layers.Add()([x, layers.Dense(channels, name=names("proj"))(SelfAttention(SMALL_HEADS)(qkv))])
    normed = LayerNorm(name=names("norm"))(x)
    hidden = _act(swish)(layers.Dense(2 * channels, name=names("mlp"))(normed))
    return layers.Add()([x, layers.Dense(channels, name=names("mlp"))(hidden)])


def weighted_layers(network: keras.Model) -> Iterator[layers.Layer]:
    """The network's layers that hold weights, in the published graph's order."""
    yield from sorted((layer for layer in network.layers if layer.weights), key=lambda layer: layer.name)
