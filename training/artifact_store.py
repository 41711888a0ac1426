"""Keep datasets, runs and shipped weights in S3 (or any S3-compatible store), so that a team shares them.

The bucket and key prefix come from the environment (`TEXT_RECOGNIZER_S3_BUCKET`, `TEXT_RECOGNIZER_S3_PREFIX`,
default "text-recognizer"); credentials, region and endpoint the way boto3 reads them (`AWS_ACCESS_KEY_ID`,
`AWS_ENDPOINT_URL`, ...). Every object carries its file's sha256; a download is checked against it before the file
appears, skips files already there and verified, and continues a partial file where it stopped.

    python training/artifact_store.py upload run runs/ppocr_small/<run>
    python training/artifact_store.py download run ppocr_small/<run>
    python training/artifact_store.py upload weights      # text_recognizer/weights
    python training/artifact_store.py download dataset iam
    python training/artifact_store.py list runs
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import boto3.exceptions
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from text_recognizer import WEIGHTS_DIR
from text_recognizer.datasets.dataset import DownloadError, atomic_path, data_dirname, sha256_of
from training import runs

BUCKET_ENV, PREFIX_ENV = "TEXT_RECOGNIZER_S3_BUCKET", "TEXT_RECOGNIZER_S3_PREFIX"
DEFAULT_PREFIX = "text-recognizer"
SHA256_KEY = "sha256"  # Object metadata (x-amz-meta-sha256).
CHUNK_SIZE = 8 * 1024 * 1024  # Multipart upload parts and download reads.
KINDS = ("dataset", "run", "weights")


class StoreError(RuntimeError):
    """The store cannot be reached or lacks what was asked for."""


class ArtifactStore:
    """A bucket and key prefix in S3.

    Args:
        bucket: the bucket (default: `$TEXT_RECOGNIZER_S3_BUCKET`).
        prefix: the key prefix under which everything lives (default: `$TEXT_RECOGNIZER_S3_PREFIX`).
        client: a boto3 S3 client (default: one made from the environment).
    """

    def __init__(self, bucket: str | None = None, prefix: str | None = None, client: Any = None) -> None:
        self.bucket = bucket or os.environ.get(BUCKET_ENV, "")
        if not self.bucket:
            raise StoreError(f"No bucket: set {BUCKET_ENV} (and AWS credentials) to use the artifact store")
        self.prefix = (prefix if prefix is not None else os.environ.get(PREFIX_ENV, DEFAULT_PREFIX)).strip("/")
        self.client = client or boto3.client("s3")
        self.transfer = TransferConfig(multipart_threshold=CHUNK_SIZE, multipart_chunksize=CHUNK_SIZE)

    def key(self, *parts: str) -> str:
        """The object key of a path under the prefix."""
        return "/".join(part.strip("/") for part in (self.prefix, *parts) if part.strip("/"))

    def upload(self, local: Path, key: str) -> list[str]:
        """Upload a file, or every file under a folder, to `key` (a folder's files keep their relative paths)."""
        files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
        if not files:
            raise StoreError(f"Nothing to upload: {local} is not a file or a folder with files")
        keys = []
        for path in files:
            target = key if path == local else f"{key}/{path.relative_to(local).as_posix()}"
            extra = {"Metadata": {SHA256_KEY: sha256_of(path)}}
            self._call(self.client.upload_file, str(path), self.bucket, target, ExtraArgs=extra, Config=self.transfer)
            keys.append(target)
        return keys

    def keys(self, key: str) -> Iterator[str]:
        """The keys of the objects at `key` or under it as a folder."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=key)))
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"] == key or item["Key"].startswith(key.rstrip("/") + "/"):
                    yield item["Key"]

    def download(self, key: str, local: Path, skip: tuple[str, ...] = ()) -> list[Path]:
        """Download the object at `key` to the file `local`, or the objects under `key` into the folder `local`
        (but for files named in `skip`)."""
        keys = [k for k in self.keys(key) if k.rsplit("/", 1)[-1] not in skip]
        if not keys:
            raise StoreError(f"Nothing at s3://{self.bucket}/{key}")
        if keys == [key]:
            return [self.download_file(key, local)]
        return [self.download_file(k, local / k[len(key.rstrip("/")) + 1 :]) for k in keys]

    def download_file(self, key: str, path: Path) -> Path:
        """Download one object to `path`, verified against its sha256; a partial `<path>.part` is continued."""
        head = self._call(self.client.head_object, Bucket=self.bucket, Key=key)
        expected = head.get("Metadata", {}).get(SHA256_KEY)
        if not expected:
            raise StoreError(f"s3://{self.bucket}/{key} has no sha256 in its metadata: upload it with this store")
        if path.exists() and sha256_of(path) == expected:
            return path
        partial = path.with_name(path.name + ".part")
        path.parent.mkdir(parents=True, exist_ok=True)
        if partial.exists() and partial.stat().st_size > head["ContentLength"]:
            partial.unlink()
        self._fetch_rest(key, partial, head["ContentLength"])
        actual = sha256_of(partial)
        if actual != expected:
            partial.unlink()  # A partial file from another version: the next try starts afresh.
            raise DownloadError(
                f"Checksum mismatch for s3://{self.bucket}/{key}: expected sha256 {expected}, got {actual}. "
                "The file was discarded; retry, or upload it again."
            )
        with atomic_path(path) as tmp:
            os.replace(partial, tmp)
        return path

    def _fetch_rest(self, key: str, partial: Path, size: int) -> None:
        """Append the bytes of the object that `partial` lacks."""
        start = partial.stat().st_size if partial.exists() else 0
        if start == size:
            return
        response = self._call(self.client.get_object, Bucket=self.bucket, Key=key, Range=f"bytes={start}-")
        with open(partial, "ab") as f:
            for chunk in response["Body"].iter_chunks(CHUNK_SIZE):
                f.write(chunk)

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Call boto3, turning its errors into one StoreError sentence."""
        try:
            return function(*args, **kwargs)
        except botocore.exceptions.NoCredentialsError as e:
            raise StoreError("No AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from e
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            code, message = error.get("Code", "?"), error.get("Message", str(e))
            raise StoreError(f"S3 refused ({code}: {message}) for bucket {self.bucket!r}") from e
        except boto3.exceptions.S3UploadFailedError as e:
            raise StoreError(f"S3 refused an upload to bucket {self.bucket!r}: {e}") from e
        except (botocore.exceptions.BotoCoreError, OSError) as e:
            raise StoreError(f"S3 failed: {e}") from e


def local_path(kind: str, name: str) -> Path:
    """Where an artifact of `kind` lives here: a dataset's downloaded files, a run's folder, the shipped weights."""
    if kind == "dataset":
        return data_dirname() / "downloaded" / name
    if kind == "run":
        return runs.runs_dir() / name
    return WEIGHTS_DIR


def store_key(store: ArtifactStore, kind: str, name: str) -> str:
    """The key of an artifact of `kind` in the store."""
    return store.key({"dataset": "datasets", "run": "runs", "weights": "weights"}[kind], name)


def main() -> None:
    """Upload, download or list artifacts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("upload", "download", "list"))
    parser.add_argument("kind", choices=(*KINDS, "datasets", "runs"), help="what: a dataset, a run or the weights")
    parser.add_argument("name", nargs="?", default="", help="dataset name, or run as <group>/<run> (or a path)")
    args = parser.parse_args()
    kind = args.kind.removesuffix("s") if args.kind in ("datasets", "runs") else args.kind
    name = args.name
    if args.action != "list" and kind != "weights" and not name:
        parser.error(f"{args.action} {kind} needs a name")
    if kind == "run" and name and Path(name).is_dir():  # A run folder's path: its name under the runs folder.
        if not Path(name).resolve().is_relative_to(runs.runs_dir().resolve()):
            parser.error(f"{name} is not under the runs folder {runs.runs_dir()}")
        name = Path(name).resolve().relative_to(runs.runs_dir().resolve()).as_posix()
    try:
        store = ArtifactStore()
        key = store_key(store, kind, name)
        if args.action == "list":
            print("\n".join(store.keys(key)))
        elif args.action == "upload":
            print("\n".join(f"s3://{store.bucket}/{k}" for k in store.upload(local_path(kind, name), key)))
        else:
            print("\n".join(str(path) for path in store.download(key, local_path(kind, name))))
    except (StoreError, DownloadError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
