"""Download the handwriting fonts declared in `data/raw/handwriting_fonts/metadata.toml` into the user font folder.

Run `python -m text_recognizer.datasets.handwriting_fonts` (`make setup` does). Each package tarball is verified by
sha256 before its font file is installed, atomically, as `<name>.woff`; installed fonts are not fetched again, and
fonts no longer declared are removed.
"""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

import toml

from text_recognizer.datasets.dataset import DownloadError, atomic_path, data_dirname, download_url, raw_dirname
from text_recognizer.datasets.handwriting import DOWNLOADED_FONT_DIR

NAME = "handwriting_fonts"


def font_sources() -> dict[str, tuple[str, str, str]]:
    """Map each declared font to (tarball url, member holding the font, tarball sha256)."""
    metadata = toml.load(raw_dirname(NAME) / "metadata.toml")
    return {
        name: (
            metadata["url"].format(name=name, version=metadata["version"]),
            metadata["member"].format(name=name, version=metadata["version"]),
            sha256,
        )
        for name, sha256 in metadata["sha256"].items()
    }


def install_fonts(destination: Path = DOWNLOADED_FONT_DIR) -> list[Path]:
    """Install every declared font missing from `destination` and remove those no longer declared.

    Returns:
        The paths of all declared fonts.
    """
    sources = font_sources()
    installed = []
    for name, (url, member, sha256) in sources.items():
        font = destination / f"{name}.woff"
        if not font.exists():
            tarball = download_url(url, data_dirname() / "downloaded" / NAME / Path(url).name, sha256)
            extract_member(tarball, member, font)
        installed.append(font)
    for font in destination.glob("*.woff"):
        if font.stem not in sources:
            font.unlink()
    return installed


def extract_member(tarball: Path, member: str, destination: Path) -> None:
    """Copy one file out of a gzipped tarball to `destination`, atomically."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            source = archive.extractfile(member)
            if source is None:
                raise KeyError(member)
            with atomic_path(destination) as tmp:
                tmp.write_bytes(source.read())
    except KeyError as e:
        raise DownloadError(f"{tarball} has no file {member}; check 'member' in the {NAME} metadata.toml") from e
    except (tarfile.TarError, OSError) as e:
        raise DownloadError(f"{tarball} is not a readable .tgz ({e}); delete it and retry") from e


def main() -> None:
    """Install the declared fonts; exit with the reason when a download fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DOWNLOADED_FONT_DIR, help="folder to install the fonts into")
    args = parser.parse_args()
    try:
        fonts = install_fonts(args.dir)
    except DownloadError as e:
        raise SystemExit(f"{e}\nThe synthetic data will be rendered from the fonts already installed.") from e
    print(f"{len(fonts)} handwriting fonts installed in {args.dir}")


if __name__ == "__main__":
    main()
