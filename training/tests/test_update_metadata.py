import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from text_recognizer.datasets.dataset import DownloadError, download_url

ROOT = Path(__file__).resolve().parents[2]
OLD = """# A dataset, mirrored somewhere.
# Original: https://example.org/dataset
url = "http://127.0.0.1:9/old.zip"
filename = "old.zip"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"""


def run(*args: str | Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "training/update_metadata.py", *map(str, args)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    path = tmp_path / "raw" / "letters" / "metadata.toml"
    path.parent.mkdir(parents=True)
    path.write_text(OLD)
    return path


def test_a_new_file_and_address_rewrite_the_metadata_which_then_verifies_its_download(metadata, tmp_path, file_server):
    body = b"new version of the data " * 1000
    new_file = tmp_path / "letters-v2.zip"
    new_file.write_bytes(body)
    url = f"{file_server.url}/letters-v2.zip"
    result = run(metadata, new_file, "--url", url)
    assert result.returncode == 0, result.stderr
    assert "sha256 0000000000000000000000000000000000000000000000000000000000000000 -> " in result.stdout
    digest = hashlib.sha256(body).hexdigest()
    assert (
        metadata.read_text()
        == OLD.replace("http://127.0.0.1:9/old.zip", url).replace("old.zip", "letters-v2.zip").replace("0" * 64, digest)
        + f"size = {len(body)}\n"
    )
    file_server.files["/letters-v2.zip"] = body
    assert download_url(url, tmp_path / "got.zip", digest, progress=False).read_bytes() == body
    file_server.files["/letters-v2.zip"] = body[:-1] + b"!"  # The server's copy changes: the metadata refuses it.
    with pytest.raises(DownloadError, match="Checksum mismatch"):
        download_url(url, tmp_path / "again.zip", digest, progress=False)


def test_the_downloaded_file_is_the_default_and_an_unchanged_file_changes_nothing(metadata, tmp_path, monkeypatch):
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path / "data"))
    downloaded = tmp_path / "data" / "downloaded" / "letters" / "old.zip"
    downloaded.parent.mkdir(parents=True)
    downloaded.write_bytes(b"abc")
    assert run(metadata).returncode == 0
    first = metadata.read_text()
    assert 'url = "http://127.0.0.1:9/old.zip"' in first and "size = 3\n" in first
    again = run(metadata)
    assert again.returncode == 0 and "already matches" in again.stdout and metadata.read_text() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-dataset"], "No metadata for 'no-such-dataset'"),
        (["{metadata}", "{tmp}/missing.zip"], "missing.zip is not a file: download it first, or give its path"),
        (["handwriting_fonts", "{metadata}"], "declares no single file"),
    ],
)
def test_bad_arguments_are_explained_and_leave_the_metadata_alone(metadata, tmp_path, args, message):
    result = run(*(arg.format(metadata=metadata, tmp=tmp_path) for arg in args))
    assert result.returncode == 1 and message in result.stderr
    assert metadata.read_text() == OLD
