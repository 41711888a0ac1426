"""EMNIST ByClass characters: the real NIST download, or synthetic handwriting characters offline."""

from __future__ import annotations

import argparse
import logging
import zipfile
from pathlib import Path

import numpy as np

from text_recognizer.datasets.dataset import (
    Dataset,
    data_dirname,
    download_raw_dataset,
    load_arrays,
    load_metadata,
    save_arrays,
)
from text_recognizer.datasets.handwriting import find_fonts, fonts_fingerprint
from text_recognizer.datasets.synthetic_characters import SYNTHETIC_VERSION, generate_characters
from text_recognizer.line_codec import ALPHANUMERIC, MAPPING

NAME = "emnist"
MAT_MEMBER = "matlab/emnist-byclass.mat"
NUM_DATA_CLASSES = len(ALPHANUMERIC)
BALANCE_SEED = 42
SOURCES = ("auto", "real", "synthetic")

logger = logging.getLogger(__name__)


class EmnistDataset(Dataset):
    """EMNIST ByClass, balanced per class; synthetic handwriting characters when the real file is absent.

    Args:
        subsample_fraction: keep this fraction of the training set, sampled within every class.
        source: "real" downloads NIST's file, "synthetic" renders characters, "auto" uses real data when it
            has already been downloaded and synthetic otherwise.
        samples_per_class: synthetic training samples per class (test gets a sixth of that).
        seed: seed of the synthetic generator and of subsampling.
    """

    def __init__(
        self,
        subsample_fraction: float | None = None,
        source: str = "auto",
        samples_per_class: int = 800,
        seed: int = 0,
    ) -> None:
        if source not in SOURCES:
            raise ValueError(f"Unknown EMNIST source {source!r}; choose one of {', '.join(SOURCES)}")
        if subsample_fraction is not None and not 0 < subsample_fraction <= 1:
            raise ValueError(f"subsample_fraction must be in (0, 1], got {subsample_fraction}")
        self.subsample_fraction = subsample_fraction
        self.source = _resolve_source(source)
        self.samples_per_class = samples_per_class
        self.seed = seed
        self.mapping = MAPPING
        self.input_shape = (28, 28)
        self.output_shape = (len(MAPPING),)

    def load_or_generate_data(self) -> None:
        """Load the processed cache, building it from the download or the generator when missing."""
        if self.source == "real":
            arrays, attrs = _load_real()
        else:
            arrays, attrs = _load_synthetic(self.samples_per_class, self.seed)
        self.data_version = str(attrs["version"])
        self.x_train, self.y_train = arrays["x_train"], arrays["y_train"]
        self.x_test, self.y_test = arrays["x_test"], arrays["y_test"]
        if self.subsample_fraction is not None:
            keep = stratified_subsample(self.y_train, self.subsample_fraction, self.seed)
            self.x_train, self.y_train = self.x_train[keep], self.y_train[keep]
        logger.info("Loaded %s EMNIST data: %s", self.source, self)


def _resolve_source(source: str) -> str:
    if source != "auto":
        return source
    downloaded = data_dirname() / "downloaded" / NAME / load_metadata(NAME)["filename"]
    found = downloaded.exists() or (data_dirname() / "processed" / NAME / "byclass.h5").exists()
    logger.info("EMNIST source: %s", "real (downloaded)" if found else "synthetic (real data not downloaded)")
    return "real" if found else "synthetic"


def _load_real() -> tuple[dict[str, np.ndarray], dict]:
    cache = data_dirname() / "processed" / NAME / "byclass.h5"
    if not cache.exists():
        zip_path = download_raw_dataset(NAME)
        arrays = process_emnist_zip(zip_path)
        save_arrays(cache, arrays, {"version": f"emnist-byclass-{load_metadata(NAME)['sha256'][:8]}"})
    return load_arrays(cache)


def process_emnist_zip(zip_path: Path) -> dict[str, np.ndarray]:
    """Read `emnist-byclass.mat` from NIST's zip, fix its orientation and balance the classes."""
    from scipy.io import loadmat

    with zipfile.ZipFile(zip_path) as zf, zf.open(MAT_MEMBER) as f:
        data = loadmat(f)["dataset"]
    arrays = {}
    for split in ("train", "test"):
        images = data[split][0, 0]["images"][0, 0].reshape(-1, 28, 28).swapaxes(1, 2)  # Stored column-major.
        labels = data[split][0, 0]["labels"][0, 0].reshape(-1)
        keep = balance_classes(labels, BALANCE_SEED)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images[keep].astype(np.uint8), labels[keep].astype(np.int64)
    return arrays


def balance_classes(labels: np.ndarray, seed: int) -> np.ndarray:
    """Indices drawing the mean class count from every class, with replacement (FSDL's balancing)."""
    rng = np.random.default_rng(seed)
    per_class = int(np.bincount(labels).mean())
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class) for c in np.unique(labels)])


def stratified_subsample(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices keeping `fraction` of every class (at least one sample each)."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        picks.append(rng.choice(members, max(1, round(fraction * members.size)), replace=False))
    return np.sort(np.concatenate(picks))


def _load_synthetic(samples_per_class: int, seed: int) -> tuple[dict[str, np.ndarray], dict]:
    fonts = find_fonts()
    version = f"{SYNTHETIC_VERSION}-{fonts_fingerprint(fonts)}-n{samples_per_class}-s{seed}"
    cache = data_dirname() / "processed" / "emnist_synthetic" / f"{version}.h5"
    if not cache.exists():
        logger.info("Rendering synthetic characters into %s", cache)
        save_arrays(cache, generate_characters(ALPHANUMERIC, fonts, samples_per_class, seed), {"version": version})
    return load_arrays(cache)


def main() -> None:
    """Print the shapes, class counts and a few labels of the dataset."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="auto", choices=SOURCES)
    parser.add_argument("--samples_per_class", type=int, default=800)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dataset = EmnistDataset(source=args.source, samples_per_class=args.samples_per_class)
    dataset.load_or_generate_data()
    print(dataset)
    print("x_train", dataset.x_train.shape, dataset.x_train.dtype, "x_test", dataset.x_test.shape)
    counts = np.bincount(dataset.y_train, minlength=len(MAPPING))[:NUM_DATA_CLASSES]
    print("train samples per class: min", counts.min(), "max", counts.max())
    print("first labels:", "".join(MAPPING[i] for i in dataset.y_train[:20]))


if __name__ == "__main__":
    main()
