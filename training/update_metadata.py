"""Recompute the sha256 and size of a dataset's file and write them into its `data/raw/<name>/metadata.toml`,
keeping the file's comments and other keys: the step after a dataset's source publishes a new version."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import tomlkit

from text_recognizer.datasets.dataset import atomic_path, data_dirname, raw_dirname, sha256_of


def metadata_path(dataset: str) -> Path:
    """The metadata.toml of a dataset named by its folder under data/raw, or given as a path."""
    path = Path(dataset) if dataset.endswith(".toml") else raw_dirname(dataset) / "metadata.toml"
    if not path.is_file():
        raise ValueError(f"No metadata for {dataset!r}: {path} does not exist")
    return path


def update_metadata(toml_path: Path, path: Path | None = None, url: str | None = None) -> dict[str, Any]:
    """Rewrite a dataset's metadata.toml with the sha256 and size of `path` (default: the downloaded file it
    names, in `data/downloaded/<dataset>/`), and with `url` and the file's name when a new address is given; return
    the old values of the keys that changed.
    """
    document = tomlkit.parse(toml_path.read_text())
    if "filename" not in document:
        raise ValueError(f"{toml_path} declares no single file (no 'filename' key); edit it by hand")
    path = path or data_dirname() / "downloaded" / toml_path.parent.name / str(document["filename"])
    if not path.is_file():
        raise ValueError(f"{path} is not a file: download it first, or give its path")
    new: dict[str, str | int] = {"sha256": sha256_of(path), "size": path.stat().st_size}
    if url is not None:
        new |= {"url": url, "filename": path.name}
    old = {key: document.get(key) for key, value in new.items() if document.get(key) != value}
    for key, value in new.items():
        document[key] = value
    with atomic_path(toml_path) as tmp:
        tmp.write_text(tomlkit.dumps(document))
    return old


def main() -> None:
    """Parse the dataset name (and file, url), update its metadata and print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="dataset folder under data/raw (e.g. emnist, iam), or a metadata.toml")
    parser.add_argument("path", nargs="?", type=Path, help="the data file (default: data/downloaded/<name>/<filename>)")
    parser.add_argument("--url", help="the file's new address (its name becomes the metadata's filename)")
    args = parser.parse_args()
    try:
        toml_path = metadata_path(args.dataset)
        old = update_metadata(toml_path, args.path, args.url)
    except ValueError as e:
        sys.exit(f"error: {e}")
    if not old:
        print(f"{toml_path} already matches")
    for key, value in old.items():
        print(f"{toml_path}: {key} {value} -> {tomlkit.parse(toml_path.read_text())[key]}")


if __name__ == "__main__":
    main()
