import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from text_recognizer.datasets.dataset import DownloadError
from training.artifact_store import SHA256_KEY, ArtifactStore, StoreError
from training.run_experiment import main
from training.tests.test_run_experiment import TINY

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "team-artifacts"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """A real S3-compatible server (moto in server mode) on a free loopback port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """Environment pointing boto3 at the server, with an empty bucket; the client the tests inspect it with."""
    for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_server, "TEXT_RECOGNIZER_S3_BUCKET": BUCKET}.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "training/artifact_store.py", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, check=False)


def make_run(runs_root: Path) -> Path:
    run = runs_root / "lines" / "LineModelCtc_x-20261206-120000"
    (run / "predictions").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"experiment": {"model": "LineModelCtc"}}))
    (run / "predictions" / "epoch-001.png").write_bytes(os.urandom(3000))
    (run / "checkpoint.npz").write_bytes(os.urandom(20_000_000))  # Larger than a multipart part.
    return run


def test_a_run_goes_up_and_comes_back_whole_through_the_command_line(s3, tmp_path):
    run = make_run(tmp_path / "runs")
    env = {"TEXT_RECOGNIZER_RUNS": str(tmp_path / "runs")}
    up = run_cli("upload", "run", str(run), env=env)
    assert up.returncode == 0, up.stderr
    assert f"s3://{BUCKET}/text-recognizer/runs/lines/{run.name}/checkpoint.npz" in up.stdout.splitlines()
    head = s3.head_object(Bucket=BUCKET, Key=f"text-recognizer/runs/lines/{run.name}/checkpoint.npz")
    assert head["Metadata"][SHA256_KEY] == hashlib.sha256((run / "checkpoint.npz").read_bytes()).hexdigest()
    listed = run_cli("list", "runs", env=env).stdout.split()
    assert len(listed) == 3 and all(key.startswith("text-recognizer/runs/lines/") for key in listed)
    elsewhere = {"TEXT_RECOGNIZER_RUNS": str(tmp_path / "other")}
    down = run_cli("download", "run", f"lines/{run.name}", env=elsewhere)
    assert down.returncode == 0, down.stderr
    for path in run.rglob("*"):
        if path.is_file():
            copy = tmp_path / "other" / path.relative_to(tmp_path / "runs")
            assert copy.read_bytes() == path.read_bytes()
    assert not list((tmp_path / "other").rglob("*.part"))


def test_a_partial_download_continues_where_it_stopped(s3, tmp_path):
    body = os.urandom(3_000_000)
    source = tmp_path / "data.zip"
    source.write_bytes(body)
    store = ArtifactStore()
    store.upload(source, store.key("datasets", "iam", "data.zip"))
    ranges: list[str] = []
    store.client.meta.events.register(
        "before-send.s3.GetObject", lambda request, **_: ranges.append(request.headers.get("Range"))
    )
    target = tmp_path / "got" / "data.zip"
    target.parent.mkdir()
    target.with_name("data.zip.part").write_bytes(body[:1_000_000])
    store.download(store.key("datasets", "iam", "data.zip"), target)
    assert target.read_bytes() == body and ranges == [b"bytes=1000000-"]
    store.download(store.key("datasets", "iam", "data.zip"), target)  # Verified already there: nothing fetched.
    assert ranges == [b"bytes=1000000-"]


def test_a_download_that_does_not_match_its_checksum_leaves_nothing(s3, tmp_path):
    key = "text-recognizer/weights/model.onnx"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"tampered", Metadata={SHA256_KEY: hashlib.sha256(b"real").hexdigest()})
    target = tmp_path / "weights" / "model.onnx"
    with pytest.raises(DownloadError, match="Checksum mismatch for s3://team-artifacts/text-recognizer/weights/model"):
        ArtifactStore().download(key, target)
    assert not target.exists() and not list(target.parent.iterdir())
    # A partial file left by another version of the object is discarded too, so the next try starts afresh.
    target.with_name("model.onnx.part").write_bytes(b"rea")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"real", Metadata={SHA256_KEY: hashlib.sha256(b"real").hexdigest()})
    assert ArtifactStore().download(key, target) == [target] and target.read_bytes() == b"real"


def test_store_failures_are_one_plain_sentence(s3, tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="Nothing at s3://team-artifacts/text-recognizer/runs/missing"):
        ArtifactStore().download("text-recognizer/runs/missing", tmp_path / "x")
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    with pytest.raises(StoreError, match="S3 refused an upload to bucket 'no-such-bucket'.*does not exist"):
        ArtifactStore(bucket="no-such-bucket").upload(tmp_path / "model.onnx", "weights/model.onnx")
    s3.put_object(Bucket=BUCKET, Key="text-recognizer/foreign.bin", Body=b"x")
    with pytest.raises(StoreError, match="has no sha256 in its metadata"):
        ArtifactStore().download("text-recognizer/foreign.bin", tmp_path / "foreign.bin")
    unset = run_cli("list", "runs", env={"TEXT_RECOGNIZER_S3_BUCKET": ""})
    assert unset.returncode == 1 and "error: No bucket: set TEXT_RECOGNIZER_S3_BUCKET" in unset.stderr


def test_staging_takes_the_best_run_of_a_group_from_the_store(s3, runs_root, data_root, tmp_path):
    experiment = {**TINY, "experiment_group": "chars"}
    main(["--nowandb", json.dumps(experiment)])
    (run,) = (runs_root / "chars").iterdir()
    artifact = json.loads((run / "CharacterModel_EmnistDataset_mlp.json").read_text())
    store = ArtifactStore()
    store.upload(run, store.key("runs", "chars", run.name))
    shutil.rmtree(runs_root)
    command = [sys.executable, "training/update_model_with_best_experiment.py", "chars", "--from-store"]
    env = {**os.environ, "TEXT_RECOGNIZER_RUNS": str(runs_root)}
    staged = subprocess.run(
        [*command, "--weights-dir", str(tmp_path / "weights")], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert staged.returncode == 0, staged.stderr
    assert json.loads((tmp_path / "weights" / "CharacterModel_EmnistDataset_mlp.json").read_text()) == artifact
    assert (tmp_path / "weights" / "CharacterModel_EmnistDataset_mlp.weights.h5").exists()
    assert (runs_root / "chars" / run.name / "config.json").exists()
    assert not list(runs_root.rglob("*.npz"))  # Checkpoints stay in the store.
