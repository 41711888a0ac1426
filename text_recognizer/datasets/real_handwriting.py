"""Named collections of real handwriting (the Hooker letters, Copiste d'un jour, Testaments de Poilus): download or
import, then lines."""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm import tqdm

from text_recognizer.datasets.dataset import data_dirname, download_url, raw_dirname, sha256_of
from text_recognizer.datasets.page_xml_dataset import PageXmlDataset, print_counts
from text_recognizer.line_codec import LINE_HEIGHT

DOWNLOAD_WORKERS = 8


def manifest(name: str) -> list[dict[str, Any]]:
    """The published files of collection `name`: `file` (its name here), `url`, `sha256`, `bytes`."""
    return json.loads((raw_dirname(name) / "manifest.json").read_text())["files"]


def collection_dir(name: str) -> Path:
    """Where collection `name`'s pages lie: downloaded there, or a link to an imported copy."""
    return data_dirname() / "downloaded" / name


def missing_files(name: str, folder: Path) -> list[str]:
    """The collection's files that `folder` lacks."""
    return [entry["file"] for entry in manifest(name) if not (folder / entry["file"]).is_file()]


def is_available(name: str) -> bool:
    """Whether every file of collection `name` is at the data root."""
    return collection_dir(name).is_dir() and not missing_files(name, collection_dir(name))


def download_collection(name: str, workers: int = DOWNLOAD_WORKERS) -> Path:
    """Download every file of the collection in parallel, each verified by sha256 and renamed into place.

    Files already there and verified are kept, so an interrupted download resumes where it stopped.
    """
    folder = collection_dir(name)
    if folder.is_symlink():
        raise ValueError(f"{folder} links to an imported copy that lacks files: {missing_files(name, folder)[:3]}")
    entries = manifest(name)
    with ThreadPoolExecutor(workers) as pool, tqdm(total=len(entries), unit="file", desc=name) as bar:
        futures = [
            pool.submit(download_url, e["url"], folder / e["file"], e["sha256"], progress=False) for e in entries
        ]
        for future in futures:
            future.result()
            bar.update()
    return folder


def import_collection(name: str, source: Path) -> Path:
    """Use a local copy of the collection in place (no copy is made): link the data root's folder to `source`.

    Every file of the manifest must be in `source`; copies that differ from the published files (re-encoded or
    downscaled pages) are used as they are, and counted.
    """
    source = source.expanduser().resolve()
    missing = missing_files(name, source)
    if missing:
        raise ValueError(f"{source} lacks {len(missing)} files of {name}, e.g. {', '.join(missing[:3])}")
    folder = collection_dir(name)
    if folder.exists() and not folder.is_symlink():
        raise ValueError(f"{folder} already holds a download of {name}; remove it to import {source} instead")
    folder.parent.mkdir(parents=True, exist_ok=True)
    link = folder.with_name(f".{name}.link")
    link.unlink(missing_ok=True)
    link.symlink_to(source, target_is_directory=True)
    os.replace(link, folder)
    differ = sum(sha256_of(source / e["file"]) != e["sha256"] for e in manifest(name))
    print(f"{folder} -> {source}: {len(manifest(name))} files, {differ} of them differ from the published originals")
    return folder


class RealHandwritingDataset(PageXmlDataset):
    """Lines of a named collection of real handwriting (`data/raw/<collection>/manifest.json`), downloaded on
    first use; its pages split by `group_pattern`, and lines matching `skip_pattern` are not of the text."""

    collection = ""
    group_pattern: str | None = None
    skip_pattern: str | None = None

    def __init__(
        self, test_fraction: float = 0.1, validation_fraction: float = 0.1, line_height: int = LINE_HEIGHT
    ) -> None:
        super().__init__(
            str(collection_dir(self.collection)),
            test_fraction,
            validation_fraction,
            group_pattern=type(self).group_pattern,
            skip_pattern=type(self).skip_pattern,
            line_height=line_height,
        )

    def load_or_generate_data(self) -> None:
        """Download the collection when it is not at the data root, then load its lines."""
        if not is_available(self.collection):
            download_collection(self.collection)
        super().load_or_generate_data()


class HookerLinesDataset(RealHandwritingDataset):
    """Joseph Dalton Hooker's letters (English cursive, 1850s–1911, mostly one hand); split by letter."""

    collection = "hooker"
    attribution = (
        "Joseph Hooker HTR ground truth (J. Schaefer, A. Litvine; images © RBG Kew), CC-BY-SA 4.0, "
        "https://github.com/jschaefer738b/JosephHookerHTR"
    )
    group_pattern = r"^(JDH_\d+_\d+_\d+)_"  # The pages of one letter.


class CopisteLinesDataset(RealHandwritingDataset):
    """Copiste d'un jour (contemporary French hands, about 240 writers); split by text, so by writer."""

    collection = "copiste"
    attribution = (
        "Copiste d'un jour, BAnQ (Bibliothèque et Archives nationales du Québec), CC-BY 4.0, "
        "https://github.com/banq-dcn/Copiste-d-un-jour"
    )
    # The pages of a text and of its second copy (`_1`, `_2`, `_double`), one writer per copy, by the text's number
    # (the series `imp_`, `oldbatch_` and plain number their texts apart; a number's texts stay together).
    group_pattern = r"wikitexte_(\d+)"
    skip_pattern = r"wikitexte"  # The page code the writers copied at the top of each page, however written.


class PoilusLinesDataset(RealHandwritingDataset):
    """Testaments de Poilus (French soldiers' wills of 1914-1918, cursive, one writer per will); split by will."""

    collection = "poilus"
    attribution = (
        "CREMMA-AN-TestamentsDePoilus (A. Chagué, T. Clérice, A. Mazoue, E. Van Kote; transcriptions by the "
        "Testaments de Poilus project, Archives nationales), CC-BY 4.0, "
        "https://github.com/HTR-United/CREMMA-AN-TestamentsDePoilus"
    )
    group_pattern = r"_(will_[A-Z0-9]+_\d+)-"  # The pages of one will, so of one writer.


COLLECTIONS: dict[str, type[RealHandwritingDataset]] = {
    cls.collection: cls for cls in (HookerLinesDataset, CopisteLinesDataset, PoilusLinesDataset)
}


def main() -> None:
    """Download or import a collection, then print its counts and a few lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("collection", choices=sorted(COLLECTIONS))
    parser.add_argument("--import", dest="source", type=Path, help="use this local copy of the pages in place")
    args = parser.parse_args()
    if args.source:
        import_collection(args.collection, args.source)
    print_counts(COLLECTIONS[args.collection]())


if __name__ == "__main__":
    main()
