import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx as onnx_format
import pytest
from PIL import Image

from text_recognizer import WEIGHTS_DIR
from text_recognizer.line_codec import decode
from text_recognizer.line_predictor import DEFAULT_ARTIFACT, LinePredictor
from text_recognizer.metrics import character_error_rate
from text_recognizer.models import load_model
from text_recognizer.models.base import weights_path
from text_recognizer.pretrained import ATTRIBUTION
from text_recognizer.pretrained import PRETRAINED as PUBLISHED
from text_recognizer.tests.test_line_folder_dataset import TEXTS, write_lines
from training.gpu_manager import gpu_count
from training.run_experiment import (
    PRETRAINED,
    PROVENANCE,
    build_experiment,
    build_parser,
    init_weights,
    main,
    parse_experiment,
)

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["Dear", "sister", "the", "garden", "letters", "morning", "Yours", "received", "and", "weather"]
TINY = {
    "dataset": "EmnistDataset",
    "dataset_args": {"source": "synthetic", "samples_per_class": 3},
    "model": "CharacterModel",
    "network": "mlp",
    "train_args": {"epochs": 1, "batch_size": 32},
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Malformed experiment JSON"),
        ("[1, 2]", "must be an object"),
        ('{"dataset": "EmnistDataset", "model": "CharacterModel"}', "lacks \\['network'\\]"),
        (json.dumps({**TINY, "optimizer": "sgd"}), "Unknown experiment keys \\['optimizer'\\]"),
        (json.dumps({**TINY, "train_args": {"epochs": "ten"}}), "train_args.epochs must be a positive int"),
        (json.dumps({**TINY, "train_args": {"batch_size": 0}}), "train_args.batch_size must be a positive int"),
        (json.dumps({**TINY, "train_args": {"epochs": 2.5}}), "train_args.epochs must be a positive int"),
        (json.dumps({**TINY, "train_args": {"clip_norm": -1.0}}), "train_args.clip_norm must be a positive float"),
        (json.dumps({**TINY, "train_args": {"ema_momentum": 1}}), "ema_momentum must be a positive float below 1"),
        (json.dumps({**TINY, "train_args": {"seed": -1}}), "train_args.seed must be a non-negative int, got -1"),
        (json.dumps({**TINY, "train_args": {"lr_decay": 1}}), "train_args.lr_decay must be a bool, got 1"),
        (json.dumps({**TINY, "train_args": {"overfit_batches": 0.5}}), "overfit_batches must be a non-negative int"),
        (json.dumps({**TINY, "train_args": {"freeze_epochs": -1}}), "freeze_epochs must be a non-negative float"),
        (json.dumps({**TINY, "train_args": {"backbone_lr_factor": 0}}), "backbone_lr_factor must be a positive float"),
        (json.dumps({**TINY, "train_args": {"momentum": 0.9}}), "Unknown train_args key 'momentum'; valid keys"),
        (json.dumps({**TINY, "network_args": [3]}), "network_args must be a JSON object"),
    ],
)
def test_bad_experiment_json_is_explained(text, message):
    with pytest.raises(ValueError, match=message):
        parse_experiment(text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"dataset": "Mnist"},
            "Unknown dataset 'Mnist'; valid datasets: CopisteLinesDataset, EmnistDataset, EmnistLinesDataset",
        ),
        (
            {"model": "Big"},
            "Unknown model 'Big'; valid models: CharacterModel, LineDetectorModel, LineModel, LineModelCtc",
        ),
        ({"network": "vgg"}, "Unknown network 'vgg'; valid networks: fcn, lenet, line_cnn_all_conv, line_cnn_lstm"),
        ({"network_args": {"units": 3}}, "Bad network_args for mlp: .* valid arguments: layer_size"),
        ({"dataset_args": {"fraction": 0.1}}, "Bad dataset_args for EmnistDataset: .* valid arguments: subsample"),
    ],
)
def test_unknown_names_and_arguments_list_the_choices(change, message, data_root):
    with pytest.raises(ValueError, match=message):
        build_experiment(parse_experiment(json.dumps({**TINY, **change})))


def test_command_line_error_is_one_line_and_exit_code_2():
    bad = '{"dataset": "Nope", "model": "x", "network": "y"}'
    result = subprocess.run(
        [sys.executable, "training/run_experiment.py", "--nowandb", bad],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: Unknown dataset 'Nope'; valid datasets:")
    assert "Traceback" not in result.stderr


def test_training_across_machines_on_tensorflow_is_refused_with_the_reason(data_root, runs_root, capsys):
    experiment = {**TINY, "train_args": {"distribute": "multi_worker"}}
    with pytest.raises(SystemExit) as refused:
        main(["--nowandb", json.dumps(experiment)])
    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert "'multi_worker' runs on JAX only" in error and "keras#20585" in error
    assert not runs_root.exists()  # Refused before any run directory is made.


def test_tiny_experiment_trains_and_reports(data_root, capsys):
    main(["--nowandb", json.dumps(TINY)])
    out = capsys.readouterr().out
    assert "Run directory: " in out and "status=finished" in out and "'test_accuracy': " in out


def test_an_experiment_trains_alike_from_the_same_seed(data_root):
    def trained_weights(seed: int) -> list[np.ndarray]:
        config = parse_experiment(json.dumps({**TINY, "train_args": {"epochs": 1, "batch_size": 32, "seed": seed}}))
        dataset, model = build_experiment(config)
        model.fit(dataset, config["train_args"])
        return model.network.get_weights()

    first, again, other = trained_weights(0), trained_weights(0), trained_weights(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_line_experiment_saves_an_artifact_the_predictor_reads(data_root, runs_root, capsys):
    experiment = {
        "dataset": "SyntheticLinesDataset",
        "dataset_args": {"num_train": 64, "num_test": 8, "max_length": 10},
        "model": "LineModelCtc",
        "network": "line_cnn_lstm",
        "train_args": {"batch_size": 16, "epochs": 2, "lr_decay": True, "clip_norm": 1.0},
    }
    main(["--nowandb", json.dumps(experiment)])
    assert "epoch 2: val_cer=" in capsys.readouterr().out
    (run_dir,) = (runs_root / "default").iterdir()
    artifact = run_dir / "LineModelCtc_SyntheticLinesDataset_line_cnn_lstm.json"
    saved = json.loads(artifact.read_text())
    assert saved["decoding"] == "ctc" and saved["variable_width"] is True and saved["preprocessing"] == "line_input"
    assert len(saved["history"]["val_cer"]) == 2 and "test_cer" in saved["metrics"]
    assert 0 < saved["history"]["elapsed_s"][0] < saved["history"]["elapsed_s"][1]
    assert saved["command"].startswith("python training/run_experiment.py --nowandb '{")
    assert sorted(path.name for path in (run_dir / "predictions").iterdir()) == ["epoch-001.png", "epoch-002.png"]
    assert 0 < saved["char_width"]["narrowest"] <= saved["char_width"]["typical"]
    line = np.full((40, 300), 230, dtype=np.uint8)
    line[10:30, 20:280:9] = 20
    onnx, keras_backend = LinePredictor(artifact, "onnx"), LinePredictor(artifact, "keras")
    np.testing.assert_allclose(onnx.outputs([line]), keras_backend.outputs([line]), atol=1e-4)
    assert onnx.predict(line)[0] == keras_backend.predict(line)[0]


def test_a_runs_validation_and_test_cer_are_what_its_predictor_reads_on_the_same_lines(data_root, runs_root, tmp_path):
    texts = [f"{WORDS[i % len(WORDS)]} {i + 40} times" for i in range(60)]
    write_lines(tmp_path / "lines", texts)
    for path in (tmp_path / "lines").iterdir():  # Shrunk, the font's strokes blur: the model misreads some.
        image = Image.open(path)
        image.resize((round(image.width * 0.7), round(image.height * 0.7)), Image.Resampling.BILINEAR).save(path)
    shipped = json.loads(DEFAULT_ARTIFACT.read_text())
    experiment = {
        "dataset": "LineFolderDataset",
        "dataset_args": {"directory": str(tmp_path / "lines"), "line_height": 48},
        "model": "LineModelCtc",
        "network": shipped["network"],
        "network_args": shipped["network_args"],
        "train_args": {"batch_size": 8, "epochs": 1, "learning_rate": 1e-5},
    }
    main(["--nowandb", "--init-from", str(DEFAULT_ARTIFACT), json.dumps(experiment)])
    (run_dir,) = (runs_root / "default").iterdir()
    artifact = run_dir / f"LineModelCtc_LineFolderDataset_{shipped['network']}.json"
    saved, predictor = json.loads(artifact.read_text()), LinePredictor(artifact, "keras")
    dataset = build_experiment(parse_experiment(json.dumps(experiment)))[0]

    def predictor_cer(labels: np.ndarray) -> float:
        truths = [decode(label) for label in labels]
        readings = predictor.predict_batch([tmp_path / "lines" / f"{text}.png" for text in truths])
        return character_error_rate([text for text, _ in readings], truths)

    validation = predictor_cer(dataset.y_train[dataset.validation_mask()])
    test = predictor_cer(dataset.y_test)
    print(f"validation CER {validation:.4f}, test CER {test:.4f}")
    assert 0 < validation < 0.5 and 0 < test < 0.5  # Read, not perfectly: a reading that differs would show.
    assert saved["history"]["val_cer"] == [round(validation, 5)]
    assert saved["metrics"]["test_cer"] == test
    # The model names the one it started from and how that one was made.
    made = {key: shipped[key] for key in PROVENANCE if key in shipped}
    assert saved["init_from"] == [{"path": str(DEFAULT_ARTIFACT), **made}]


def folder_model(directory: Path, network_args: dict) -> Any:
    """A line model of the shipped default's network for the lines in `directory`, with fresh weights."""
    config = {
        "dataset": "LineFolderDataset",
        "dataset_args": {"directory": str(directory)},
        "model": "LineModelCtc",
        "network": json.loads(DEFAULT_ARTIFACT.read_text())["network"],
        "network_args": network_args,
    }
    return build_experiment(parse_experiment(json.dumps(config)))[1]


def test_init_from_starts_from_a_saved_model_that_matches(data_root, tmp_path):
    write_lines(tmp_path / "lines", TEXTS)
    saved = json.loads(DEFAULT_ARTIFACT.read_text())
    model = folder_model(tmp_path / "lines", saved["network_args"])
    init_weights(model, [DEFAULT_ARTIFACT])
    shipped = load_model(DEFAULT_ARTIFACT)
    assert all(
        np.array_equal(a, b) for a, b in zip(model.network.get_weights(), shipped.network.get_weights(), strict=True)
    )
    assert model.char_width == saved["char_width"]
    assert model.artifact()["attribution"] == saved["attribution"]  # The credits of what it learnt from carry on.
    assert model.artifact()["pretrained"] == saved["pretrained"]
    with pytest.raises(ValueError, match="has network_args .*; the experiment's must match it"):
        init_weights(folder_model(tmp_path / "lines", {}), [DEFAULT_ARTIFACT])
    with pytest.raises(ValueError, match="Cannot read the model to start from, .*nothing.json"):
        init_weights(model, [tmp_path / "nothing.json"])
    with pytest.raises(ValueError, match="--init-from pretrained starts from the published weights alone"):
        init_weights(model, [Path(PRETRAINED), DEFAULT_ARTIFACT])


def test_init_from_several_saved_models_starts_from_the_mean_of_their_weights(data_root, tmp_path):
    write_lines(tmp_path / "lines", TEXTS)
    saved = json.loads(DEFAULT_ARTIFACT.read_text())
    shifted = load_model(DEFAULT_ARTIFACT)
    shipped_weights = shifted.network.get_weights()
    shifted.network.set_weights([w + 1 if w.dtype.kind == "f" else w for w in shipped_weights])
    other = tmp_path / DEFAULT_ARTIFACT.name
    shifted.network.save_weights(weights_path(other))
    wider = {key: width + 2 for key, width in saved["char_width"].items()}
    other.write_text(json.dumps({**saved, "char_width": wider}))
    model = folder_model(tmp_path / "lines", saved["network_args"])
    init_weights(model, [DEFAULT_ARTIFACT, other])
    for mean, shipped in zip(model.network.get_weights(), shipped_weights, strict=True):
        np.testing.assert_allclose(mean, shipped + 0.5 if shipped.dtype.kind == "f" else shipped, atol=1e-6)
    assert model.char_width == {key: pytest.approx(width + 1) for key, width in saved["char_width"].items()}
    assert [start["path"] for start in model.data_config["init_from"]] == [str(DEFAULT_ARTIFACT), str(other)]
    with pytest.raises(ValueError, match="has network_args"):
        init_weights(folder_model(tmp_path / "lines", {}), [DEFAULT_ARTIFACT, other])
    # The command line takes --init-from repeated.
    args = build_parser().parse_args(["--init-from", str(DEFAULT_ARTIFACT), "--init-from", str(other), "{}"])
    assert args.init_from == [DEFAULT_ARTIFACT, other]


def test_init_from_pretrained_fine_tunes_the_published_network_and_credits_it(data_root, runs_root):
    experiment = {
        "dataset": "SyntheticLinesDataset",
        "dataset_args": {"num_train": 32, "num_test": 16, "max_length": 10, "line_height": 48},
        "model": "LineModelCtc",
        "network": "ppocr_rec_tiny",
        "train_args": {"batch_size": 16, "epochs": 1, "learning_rate": 1e-5, "mixed_bfloat16": True},
    }
    dataset, untrained = build_experiment(parse_experiment(json.dumps(experiment)))
    main(["--nowandb", "--init-from", PRETRAINED, json.dumps(experiment)])
    (run_dir,) = (runs_root / "default").iterdir()
    artifact = run_dir / "LineModelCtc_SyntheticLinesDataset_ppocr_rec_tiny.json"
    saved = json.loads(artifact.read_text())
    assert saved["attribution"] == [ATTRIBUTION]
    assert saved["pretrained"] == {"weights": "PP-OCRv6 tiny", "sha256": PUBLISHED["ppocr_rec_tiny"].onnx_sha256}
    assert saved["command"].startswith("python training/run_experiment.py --nowandb --init-from pretrained '{")
    assert saved["input_shape"][0] == 48 and saved["best_epoch"] == 1 and saved["run"] == f"default/{run_dir.name}"
    assert len(saved["commit"]) >= 40
    # Published weights read the held-out synthetic lines; the same network from random weights reads nothing.
    assert saved["metrics"]["test_cer"] < 0.5 < untrained.evaluate(dataset.x_test, dataset.y_test)["cer"]
    # Trained in bfloat16, saved and exported in float32: the exported network agrees with the Keras one to float32
    # round-off (a bfloat16 graph would differ by about 1 %).
    lines = [255 - line for line in dataset.x_test[:4]]
    onnx, keras_backend = LinePredictor(artifact, "onnx"), LinePredictor(artifact, "keras")
    np.testing.assert_allclose(onnx.outputs(lines), keras_backend.outputs(lines), rtol=1e-5, atol=1e-4)
    # Each exact GELU is exported as one fused node, as ONNX Runtime runs PaddleOCR's own graph.
    ops = {node.op_type for node in onnx_format.load(str(artifact.with_suffix(".onnx"))).graph.node}
    assert "Gelu" in ops and "Erf" not in ops


SHIPPED = sorted(WEIGHTS_DIR.glob("*.json"))


@pytest.mark.parametrize("artifact", SHIPPED, ids=lambda path: path.stem)
def test_every_shipped_model_records_a_command_that_runs_today(artifact):
    config = json.loads(artifact.read_text())
    assert_runs_today(config)
    assert config["best_epoch"]


def assert_runs_today(config: dict) -> None:
    """The command that made a model parses today, and each model it started from is published, here, or recorded
    with the command that made it, which runs today too."""
    program, script, *argv = shlex.split(config["command"])
    assert (program, script) == ("python", "training/run_experiment.py")
    args = build_parser().parse_args(argv)
    experiment = parse_experiment(args.experiment_config)
    assert (experiment["model"], experiment["network"]) == (config["model"], config["network"])
    recorded = {start["path"]: start for start in config.get("init_from", [])}
    for path in args.init_from or []:
        if str(path) != PRETRAINED and not path.exists():
            assert str(path) in recorded, f"{path} is neither shipped nor recorded with the command that made it"
            assert_runs_today({"model": config["model"], "network": config["network"], **recorded[str(path)]})
    assert config["commit"] and config["data_version"] and config["run"]


def test_a_model_started_from_runs_not_shipped_must_record_how_they_were_made():
    shipped = json.loads(DEFAULT_ARTIFACT.read_text())
    experiment = shlex.split(shipped["command"])[-1]
    started = {
        **shipped,
        "command": shlex.join(["python", "training/run_experiment.py", "--init-from", "runs/a/A.json", experiment]),
    }
    with pytest.raises(AssertionError, match="runs/a/A.json is neither shipped nor recorded"):
        assert_runs_today(started)
    assert_runs_today(
        {
            **started,
            "init_from": [{"path": "runs/a/A.json", **{key: shipped[key] for key in PROVENANCE if key in shipped}}],
        }
    )


def test_run_tools_load_no_framework_before_the_gpus_are_chosen():
    code = (
        "import sys, training.run_experiment, training.compare_runs, training.update_model_with_best_experiment; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(gpu_count() > 0, reason="this machine has GPUs: --gpus takes them")
def test_asking_for_gpus_where_there_are_none_is_an_error(data_root):
    result = subprocess.run(
        [sys.executable, "training/run_experiment.py", "--nowandb", "--gpus", "2", json.dumps(TINY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "No NVIDIA GPU found to take; train on the CPU without --gpus" in result.stderr
