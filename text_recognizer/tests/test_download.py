import hashlib
from pathlib import Path

import pytest

from text_recognizer.datasets import dataset
from text_recognizer.datasets.dataset import DownloadError, download_raw_dataset, download_url

BODY = b"handwriting " * 50_000


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_download_verifies_and_writes(file_server, tmp_path):
    file_server.files["/f.bin"] = BODY
    dest = tmp_path / "sub" / "f.bin"
    assert download_url(f"{file_server.url}/f.bin", dest, sha(BODY)) == dest
    assert dest.read_bytes() == BODY
    assert list(dest.parent.iterdir()) == [dest]


def test_second_call_does_not_download_again(file_server, tmp_path):
    file_server.files["/f.bin"] = BODY
    dest = tmp_path / "f.bin"
    download_url(f"{file_server.url}/f.bin", dest, sha(BODY))
    download_url(f"{file_server.url}/f.bin", dest, sha(BODY))
    assert file_server.hits["/f.bin"] == 1


def test_corrupt_existing_file_is_replaced(file_server, tmp_path):
    file_server.files["/f.bin"] = BODY
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"stale")
    download_url(f"{file_server.url}/f.bin", dest, sha(BODY))
    assert dest.read_bytes() == BODY


def test_wrong_checksum_names_file_and_hashes_and_leaves_nothing(file_server, tmp_path):
    file_server.files["/f.bin"] = BODY
    dest = tmp_path / "f.bin"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as e:
        download_url(f"{file_server.url}/f.bin", dest, wrong)
    message = str(e.value)
    assert "f.bin" in message and wrong in message and sha(BODY) in message
    assert list(tmp_path.iterdir()) == []


def test_truncated_body_raises_and_leaves_nothing(file_server, tmp_path):
    file_server.files["/f.bin"] = BODY
    file_server.truncate.add("/f.bin")
    with pytest.raises(DownloadError, match="truncated|IncompleteRead|failed"):
        download_url(f"{file_server.url}/f.bin", tmp_path / "f.bin", sha(BODY))
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_reported(file_server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_url(f"{file_server.url}/missing.bin", tmp_path / "missing.bin", sha(BODY))
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_reported(tmp_path):
    with pytest.raises(DownloadError, match="failed"):
        download_url("http://127.0.0.1:9/none.bin", tmp_path / "none.bin", sha(BODY))


def test_download_raw_dataset_reads_metadata(file_server, data_root, tmp_path, monkeypatch):
    file_server.files["/toy.zip"] = BODY
    raw = tmp_path / "raw"
    (raw / "toy").mkdir(parents=True)
    (raw / "toy" / "metadata.toml").write_text(
        f'url = "{file_server.url}/toy.zip"\nfilename = "toy.zip"\nsha256 = "{sha(BODY)}"\n'
    )
    monkeypatch.setattr(dataset, "raw_dirname", lambda name: raw / name)
    path = download_raw_dataset("toy")
    assert path == data_root / "downloaded" / "toy" / "toy.zip"
    assert path.read_bytes() == BODY


def test_metadata_without_sha_is_rejected(tmp_path, monkeypatch):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "metadata.toml").write_text('url = "http://127.0.0.1/x"\nfilename = "x"\n')
    monkeypatch.setattr(dataset, "raw_dirname", lambda name: tmp_path / name)
    with pytest.raises(ValueError, match="sha256"):
        dataset.load_metadata("toy")


def test_committed_metadata_is_complete():
    meta = dataset.load_metadata("emnist")
    assert meta["url"].startswith("https://") and len(meta["sha256"]) == 64
    assert Path(meta["filename"]).name == "matlab.zip"
