"""Dataset base: data directories, declared downloads verified by sha256, and atomic cache writes."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import toml
from tqdm import tqdm

DATA_DIR_ENV = "TEXT_RECOGNIZER_DATA"
VALIDATION_FRACTION = 0.1  # Share of the training rows that validate, where a dataset sets no validation split.
CHUNK_SIZE = 1 << 20
DOWNLOAD_TIMEOUT_S = 60

logger = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """A download failed: HTTP error, truncated transfer or checksum mismatch."""


def data_dirname() -> Path:
    """Return the data root: `$TEXT_RECOGNIZER_DATA` if set, else `data/` at the repository root."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(__file__).resolve().parents[2] / "data"


def raw_dirname(name: str) -> Path:
    """Return the committed folder holding `metadata.toml` for dataset `name`."""
    return Path(__file__).resolve().parents[2] / "data" / "raw" / name


def load_metadata(name: str) -> dict[str, str]:
    """Read `data/raw/<name>/metadata.toml` (url, filename, sha256)."""
    path = raw_dirname(name) / "metadata.toml"
    metadata = toml.load(path)
    missing = {"url", "filename", "sha256"} - metadata.keys()
    if missing:
        raise ValueError(f"{path} lacks the keys {sorted(missing)}")
    return metadata


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temporary path beside `destination`; rename it into place only if the block succeeds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp creates 0600; give the final file the usual permissions.
    try:
        yield tmp
        os.replace(tmp, destination)
    finally:
        tmp.unlink(missing_ok=True)


def download_url(url: str, destination: Path, sha256: str, progress: bool = True) -> Path:
    """Download `url` to `destination` unless a verified copy is there; verify sha256 before it appears.

    Args:
        url: http(s) address of the file.
        destination: final path; nothing is left there unless the checksum matches.
        sha256: expected hex digest.
        progress: show a progress bar of the bytes received.

    Returns:
        The destination path.
    """
    if destination.exists() and sha256_of(destination) == sha256:
        logger.info("%s already downloaded and verified", destination)
        return destination
    with atomic_path(destination) as tmp:
        stream_to(url, tmp, progress)
        actual = sha256_of(tmp)
        if actual != sha256:
            raise DownloadError(
                f"Checksum mismatch for {destination.name} from {url}: expected sha256 {sha256}, got {actual}. "
                "The file was discarded; retry, or check the url and sha256 in its metadata.toml."
            )
    return destination


def stream_to(url: str, path: Path, progress: bool = True, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Stream `url` into `path` with a progress bar; raise DownloadError on HTTP errors, stalls longer than
    `timeout` seconds and short bodies."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            received = 0
            with (
                open(path, "wb") as f,
                tqdm(total=total or None, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar,
            ):
                for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                    f.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as e:
        raise DownloadError(f"Download of {url} failed: HTTP {e.code} {e.reason}") from e
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        raise DownloadError(f"Download of {url} failed: {e}") from e
    if total and received != total:
        raise DownloadError(f"Download of {url} was truncated: got {received} of {total} bytes; retry.")


def download_raw_dataset(name: str) -> Path:
    """Download the file declared in `data/raw/<name>/metadata.toml` into `data/downloaded/<name>/`."""
    metadata = load_metadata(name)
    destination = data_dirname() / "downloaded" / name / metadata["filename"]
    return download_url(metadata["url"], destination, metadata["sha256"])


def save_arrays(path: Path, arrays: dict[str, np.ndarray], attrs: dict[str, Any] | None = None) -> None:
    """Write named arrays (and scalar attributes) to an HDF5 cache atomically."""
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, value in arrays.items():
                f.create_dataset(key, data=value, compression="lzf")
            f.attrs.update(attrs or {})


def load_arrays(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read every array and attribute from an HDF5 cache written by `save_arrays`."""
    with h5py.File(path, "r") as f:
        return {key: f[key][()] for key in f.keys()}, dict(f.attrs)


def random_validation_mask(n: int) -> np.ndarray:
    """A fixed random tenth of n rows (the same every run, so every run validates alike)."""
    return np.random.default_rng(0).random(n) < VALIDATION_FRACTION


class Dataset:
    """Base of all datasets: numpy arrays `x_train, y_train, x_test, y_test` and the contract networks use."""

    mapping: list[str]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    data_version: str

    def load_or_generate_data(self) -> None:
        """Fill the arrays, from the processed cache when present."""
        raise NotImplementedError

    def load_cache(self, cache: Path, generate: Callable[[], dict[str, np.ndarray]]) -> None:
        """Fill the train and test arrays from an HDF5 cache, writing it with `generate()` first when missing."""
        if not cache.exists():
            logger.info("Building %s into %s", type(self).__name__, cache)
            save_arrays(cache, generate(), {"version": self.data_version})
        arrays, _ = load_arrays(cache)
        self.x_train, self.y_train = arrays["x_train"], arrays["y_train"]
        self.x_test, self.y_test = arrays["x_test"], arrays["y_test"]

    def validation_mask(self) -> np.ndarray:
        """Boolean mask of the training rows that validate training; by default a fixed random tenth."""
        return random_validation_mask(len(self.x_train))

    @property
    def num_classes(self) -> int:
        """Number of output classes (the mapping's length)."""
        return len(self.mapping)

    def config(self) -> dict[str, Any]:
        """Describe the data for an artifact: shapes, mapping and version."""
        return {
            "dataset": type(self).__name__,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "mapping": self.mapping,
            "data_version": self.data_version,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(version={self.data_version}, train={self.x_train.shape}, "
            f"test={self.x_test.shape}, classes={self.num_classes})"
        )
