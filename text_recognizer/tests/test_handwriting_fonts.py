"""Handwriting font downloads: npm-style package tarballs served on 127.0.0.1, verified, one file installed."""

import hashlib
import io
import re
import tarfile
from pathlib import Path

import matplotlib
import pytest
import toml

from text_recognizer.datasets import handwriting_fonts
from text_recognizer.datasets.dataset import DownloadError
from text_recognizer.datasets.handwriting import REQUIRED_CHARS, _matching_fonts
from text_recognizer.datasets.handwriting_fonts import font_sources, install_fonts

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Oblique.ttf"
MEMBER = "package/files/{name}-latin-400-normal.woff"


def package(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def serve_fonts(file_server, tmp_path, data_root, monkeypatch):
    """Serve package tarballs and declare them, with the given sha256 (default: their own), in a metadata.toml."""
    monkeypatch.setattr(handwriting_fonts, "raw_dirname", lambda name: tmp_path / "raw" / name)

    def serve(tarballs: dict[str, bytes], sha256: dict[str, str] | None = None) -> None:
        for name, body in tarballs.items():
            file_server.files[f"/{name}-1.0.tgz"] = body
        metadata = {
            "version": "1.0",
            "url": file_server.url + "/{name}-{version}.tgz",
            "member": MEMBER,
            "sha256": sha256 or {name: hashlib.sha256(body).hexdigest() for name, body in tarballs.items()},
        }
        (tmp_path / "raw" / handwriting_fonts.NAME).mkdir(parents=True)
        (tmp_path / "raw" / handwriting_fonts.NAME / "metadata.toml").write_text(toml.dumps(metadata))

    return serve


def test_fonts_are_installed_once_from_verified_tarballs(serve_fonts, file_server, tmp_path):
    font = FONT.read_bytes()
    serve_fonts({"hand": package({"package/README.md": b"hand", MEMBER.format(name="hand"): font})})
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "undeclared.woff").write_bytes(font)
    installed = install_fonts(tmp_path / "fonts")
    assert sorted((tmp_path / "fonts").iterdir()) == installed  # Fonts no longer declared are removed.
    assert installed == [tmp_path / "fonts" / "hand.woff"]
    assert installed[0].read_bytes() == font
    assert _matching_fonts((tmp_path / "fonts",), ("*.woff",), REQUIRED_CHARS) == tuple(installed)
    assert install_fonts(tmp_path / "fonts") == installed
    assert file_server.hits["/hand-1.0.tgz"] == 1


def test_wrong_checksum_installs_nothing(serve_fonts, tmp_path):
    serve_fonts({"hand": package({MEMBER.format(name="hand"): FONT.read_bytes()})}, sha256={"hand": "0" * 64})
    with pytest.raises(DownloadError, match="Checksum mismatch for hand-1.0.tgz"):
        install_fonts(tmp_path / "fonts")
    assert not (tmp_path / "fonts").exists()


def test_tarball_without_the_font_gives_a_clear_error(serve_fonts, tmp_path):
    serve_fonts({"hand": package({"package/README.md": b"no font here"})})
    with pytest.raises(DownloadError, match="has no file package/files/hand-latin-400-normal.woff"):
        install_fonts(tmp_path / "fonts")
    assert not (tmp_path / "fonts").exists()


def test_declared_fonts_are_pinned_npm_packages():
    sources = font_sources()
    for name, (url, member, sha256) in sources.items():
        assert url == f"https://registry.npmjs.org/@fontsource/{name}/-/{name}-5.3.0.tgz"
        assert member == f"package/files/{name}-latin-400-normal.woff"
        assert re.fullmatch("[0-9a-f]{64}", sha256)
