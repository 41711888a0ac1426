import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from text_recognizer.models import CharacterModel, load_model
from text_recognizer.run_files import BEST, CHECKPOINT
from training import runs
from training.compare_runs import table
from training.gpu_util_sampler import visible_gpu_handles
from training.run_experiment import build_experiment, main, parse_experiment
from training.tests.test_run_experiment import TINY
from training.update_model_with_best_experiment import best_run, stage

ROOT = Path(__file__).resolve().parents[2]
CHARACTERS = {
    **TINY,
    "dataset_args": {"source": "synthetic", "samples_per_class": 6},
    "train_args": {"epochs": 2, "batch_size": 32, "early_stopping": False},
    "experiment_group": "tiny",
}
LINES = {
    "dataset": "SyntheticLinesDataset",
    "dataset_args": {"num_train": 48, "num_test": 8, "max_length": 10},
    "model": "LineModelCtc",
    "network": "line_cnn_lstm",
    "network_args": {"lstm_units": 32},
    "train_args": {"batch_size": 16, "epochs": 2, "ema_momentum": 0.9, "distribute": "mirrored"},
    "experiment_group": "jax",
}


def only_run(group_dir: Path) -> Path:
    (run_dir,) = [p for p in group_dir.iterdir() if p.is_dir()]
    return run_dir


def run_command(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "training/run_experiment.py", "--nowandb", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_run_writes_its_directory_and_stages_into_the_weights(data_root, runs_root, tmp_path, capsys):
    for layers in (1, 2):
        main(["--nowandb", json.dumps({**CHARACTERS, "network_args": {"num_layers": layers}})])
    run_dirs = runs.group_runs("tiny")
    names = {p.name for p in run_dirs[0].iterdir()}
    assert {runs.CONFIG, runs.METRICS, runs.CURVES, runs.SUMMARY, CHECKPOINT, BEST} <= names
    stem = "CharacterModel_EmnistDataset_mlp"
    assert {f"{stem}.json", f"{stem}.weights.h5", f"{stem}.onnx"} <= names
    history = runs.curves(run_dirs[0])
    assert len(history["val_accuracy"]) == 2
    assert ("gpu_util" in history) == bool(visible_gpu_handles())  # Sampled where there are GPUs to watch.
    summary = json.loads((run_dirs[0] / runs.SUMMARY).read_text())
    assert summary["status"] == "finished" and summary["monitor"] == "val_accuracy"
    assert summary["best"] == max(history["val_accuracy"][: summary["best_epoch"]])

    printed = table([runs.run_record(p) for p in run_dirs]).splitlines()
    assert printed[0].startswith("| run | network_args.num_layers | status | epochs | best validation (epoch) |")
    assert len(printed) == 4 and all("| finished | 2 | val_accuracy" in line for line in printed[2:])
    overfit = {**CHARACTERS, "train_args": {**CHARACTERS["train_args"], "overfit_batches": 1}}
    main(["--nowandb", json.dumps(overfit)])
    overfit_dir = runs.group_runs("tiny")[-1]
    summary = runs.read_json(overfit_dir / runs.SUMMARY)
    runs.write_json(overfit_dir / runs.SUMMARY, {**summary, "best": 1.0})  # The top score, on its training data.
    best = best_run("tiny")
    assert best["dir"] in run_dirs
    # Scripts that start from a group's best model ask for its JSON.
    command = [sys.executable, "training/update_model_with_best_experiment.py", "--print", "tiny"]
    printed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert printed == f"{best['dir'] / best['artifact']}\n"
    staged = stage(best, tmp_path / "weights")
    assert [p.name for p in staged] == [f"{stem}.weights.h5", f"{stem}.onnx", f"{stem}.json"]
    assert json.loads(staged[-1].read_text())["network_args"] == best["experiment"]["network_args"]


def test_the_saved_weights_are_the_best_epochs_not_the_last(data_root, runs_root):
    config = parse_experiment(json.dumps({**CHARACTERS, "train_args": {**CHARACTERS["train_args"], "epochs": 3}}))
    dataset, model = build_experiment(config)
    seen = []

    class ScoreEpochs(keras.callbacks.Callback):  # Ranks the epochs 2nd, 1st, 3rd, whatever they learned.
        def on_epoch_end(self, epoch, logs=None):
            logs["val_accuracy"] = [0.5, 0.9, 0.2][epoch]
            seen.append(self.model.get_weights())

    model.fit(dataset, config["train_args"], [ScoreEpochs()], run_dir=runs_root)
    assert model.best_epoch == 2
    assert all(np.array_equal(a, b) for a, b in zip(model.network.get_weights(), seen[1], strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(seen[1], seen[2], strict=True))


def checkpoint_after(experiment: dict, epochs_per_process: list[int], run_dir: Path) -> dict[str, np.ndarray]:
    """Fit in `run_dir` to each number of epochs in turn, each time with a fresh model as a resumed process
    builds; return the last checkpoint's arrays."""
    config = parse_experiment(json.dumps(experiment))
    run_dir.mkdir()
    for epochs in epochs_per_process:
        dataset, model = build_experiment(config)
        model.fit(dataset, {**config["train_args"], "epochs": epochs}, run_dir=run_dir)
    with np.load(run_dir / CHECKPOINT) as data:
        return {key: data[key] for key in data.files}


def assert_same_arrays(expected: dict[str, np.ndarray], actual: dict[str, np.ndarray]) -> None:
    assert expected.keys() == actual.keys()
    for key, value in expected.items():
        assert np.array_equal(value, actual[key]), key


def test_a_resumed_fit_takes_the_steps_of_an_uninterrupted_one(data_root, tmp_path):
    experiment = {
        **LINES,
        "dataset_args": {**LINES["dataset_args"], "augment": {"none": 1, "rot": 1, "sp": 1}},
        "network_args": {"lstm_units": 16, "dropout_amount": 0.3},
        "train_args": {"batch_size": 16, "epochs": 2},
    }
    whole = checkpoint_after(experiment, [2], tmp_path / "whole")
    assert "seed0" in whole  # Dropout's random state.
    assert_same_arrays(whole, checkpoint_after(experiment, [1, 2], tmp_path / "resumed"))


def test_a_resumed_fit_keeps_the_early_stopping_count(data_root, tmp_path):
    experiment = {**CHARACTERS, "train_args": {"epochs": 3, "learning_rate": 1e-9}}  # The loss stays put.
    whole = checkpoint_after(experiment, [3], tmp_path / "whole")
    assert json.loads(str(whole["state"]))["early_stopping"]["wait"] == 2  # Two epochs without improving.
    assert_same_arrays(whole, checkpoint_after(experiment, [1, 3], tmp_path / "resumed"))


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(data_root, runs_root, monkeypatch):
    class Diverging(keras.optimizers.schedules.LearningRateSchedule):  # NaN steps from the second epoch on.
        def __init__(self, steps_per_epoch):
            self.steps_per_epoch = steps_per_epoch

        def __call__(self, step):
            return keras.ops.where(step >= self.steps_per_epoch, np.nan, 1e-3)

    monkeypatch.setattr(CharacterModel, "optimizer", lambda self, args, steps: keras.optimizers.Adam(Diverging(steps)))
    experiment = {**CHARACTERS, "dataset_args": {"source": "synthetic", "samples_per_class": 1}}
    with pytest.raises(SystemExit) as stopped:
        main(["--nowandb", json.dumps(experiment)])
    assert stopped.value.code == 1
    run_dir = only_run(runs_root / "tiny")
    summary = json.loads((run_dir / runs.SUMMARY).read_text())
    assert summary["status"].startswith("stopped: non-finite loss at epoch 2, batch 2") and "artifact" not in summary
    with np.load(run_dir / CHECKPOINT) as checkpoint:
        assert json.loads(str(checkpoint["state"]))["epoch"] == 1
        assert all(np.isfinite(checkpoint[key]).all() for key in checkpoint.files if key != "state")
    command = [sys.executable, "training/run_experiment.py", "--resume", str(run_dir)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2 and "has ended already" in result.stderr


# Moments after the first epoch starts at which the run is killed: in an epoch, its validation or its checkpoint.
KILL_AFTER_S = (0.7, 2.2, 3.6)


def test_a_killed_run_resumes_losing_at_most_one_epoch(data_root, test_fonts, runs_root, tmp_path):
    experiment = {
        **CHARACTERS,
        "dataset_args": {"source": "synthetic", "samples_per_class": 20},
        "network": "lenet",
        "train_args": {"epochs": 5, "batch_size": 16, "early_stopping": False},
    }
    env = {"TEXT_RECOGNIZER_DATA": str(data_root), runs.RUNS_ENV: str(runs_root)}
    args = [json.dumps(experiment)]
    for attempt, kill_after_s in enumerate(KILL_AFTER_S):
        log = tmp_path / f"attempt{attempt}.log"
        process = run_command(args, env, log)
        while "Epoch " not in log.read_text() and process.poll() is None:
            time.sleep(0.2)
        time.sleep(kill_after_s)
        process.send_signal(signal.SIGKILL)
        process.wait()
        run_dir = only_run(runs_root / "tiny")
        started = max(map(int, re.findall(r"Epoch (\d+)/5", log.read_text())), default=0)
        done = 0
        if (run_dir / CHECKPOINT).exists():
            with np.load(run_dir / CHECKPOINT) as checkpoint:  # Whole, whenever the kill came.
                done = json.loads(str(checkpoint["state"]))["epoch"]
        assert started - done <= 1, f"attempt {attempt}: epoch {started} had started, the checkpoint holds {done}"
        args = ["--resume", str(run_dir)]
    process = run_command(args, env, tmp_path / "last.log")
    assert process.wait(timeout=600) == 0, (tmp_path / "last.log").read_text()
    history = runs.curves(run_dir)
    assert len(history["loss"]) == 5 and np.isfinite(history["loss"]).all()
    assert json.loads((run_dir / runs.SUMMARY).read_text())["epochs_run"] == 5
    assert not list(run_dir.glob(".*.part"))


def test_a_line_model_trained_data_parallel_on_jax_loads_and_exports_on_tensorflow(data_root, test_fonts, runs_root):
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    trained = subprocess.run(
        [sys.executable, "training/run_experiment.py", "--nowandb", json.dumps(LINES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "Training data-parallel on 2 devices (DataParallel)" in trained.stdout
    artifact = only_run(runs_root / "jax") / "LineModelCtc_SyntheticLinesDataset_line_cnn_lstm.json"
    assert "No ONNX export on jax" in trained.stdout and not artifact.with_suffix(".onnx").exists()
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 96)).astype(np.float32)
    read_on_jax = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, json, numpy as np; from text_recognizer.models import load_model; "
            "x = np.random.default_rng(0).uniform(0, 255, (2, 32, 96)).astype(np.float32); "
            "print(json.dumps(load_model(sys.argv[1]).network.predict_on_batch(x).tolist()))",
            str(artifact),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert read_on_jax.returncode == 0, read_on_jax.stderr
    from text_recognizer.export_onnx import export
    from text_recognizer.line_predictor import LinePredictor

    model = load_model(artifact)
    jax_outputs = np.array(json.loads(read_on_jax.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(model.network.predict_on_batch(x), jax_outputs, atol=1e-4)
    export(artifact)
    line = np.full((40, 300), 230, dtype=np.uint8)
    line[10:30, 20:280:9] = 20
    onnx, on_keras = LinePredictor(artifact, "onnx"), LinePredictor(artifact, "keras")
    np.testing.assert_allclose(onnx.outputs([line]), on_keras.outputs([line]), atol=1e-4)


def test_a_line_model_trains_across_two_processes_on_jax(data_root, test_fonts, tmp_path):
    with socket.socket() as probe:  # A free port for process 0 to coordinate on.
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    experiment = json.dumps({**LINES, "train_args": {**LINES["train_args"], "distribute": "multi_worker"}})
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "JAX_PLATFORMS": "cpu",
        "JAX_CPU_COLLECTIVES_IMPLEMENTATION": "gloo",
        "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}",
        "JAX_NUM_PROCESSES": "2",
    }
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [  # Each with its own runs folder, as on separate machines.
        run_command([experiment], {**env, "JAX_PROCESS_ID": str(i), runs.RUNS_ENV: str(tmp_path / f"runs{i}")}, logs[i])
        for i in range(2)
    ]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.wait(timeout=600) == 0, log.read_text()
        assert "Training data-parallel on 2 devices in 2 processes (DataParallel)" in log.read_text()
    run_dirs = [only_run(tmp_path / f"runs{i}" / "jax") for i in range(2)]
    summaries = [runs.read_json(run_dir / runs.SUMMARY) for run_dir in run_dirs]
    assert summaries[0]["status"] == "finished" and summaries[0]["metrics"] == summaries[1]["metrics"]
    with np.load(run_dirs[0] / CHECKPOINT) as first, np.load(run_dirs[1] / CHECKPOINT) as second:
        assert_same_arrays(dict(first), dict(second))  # Every step was one step of both.


def test_mirrored_training_on_two_cpu_devices(data_root, test_fonts, runs_root):
    experiment = {**CHARACTERS, "train_args": {**CHARACTERS["train_args"], "distribute": "mirrored"}}
    result = subprocess.run(
        [sys.executable, "training/run_experiment.py", "--nowandb", json.dumps(experiment)],
        cwd=ROOT,
        env={**os.environ, "TEXT_RECOGNIZER_CPU_DEVICES": "2"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Training data-parallel on 2 devices (MirroredStrategy)" in result.stdout
    assert json.loads((only_run(runs_root / "tiny") / runs.SUMMARY).read_text())["status"] == "finished"
