import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.run_experiment import build_experiment, main, parse_experiment

ROOT = Path(__file__).resolve().parents[2]
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
        ({"dataset": "Mnist"}, "Unknown dataset 'Mnist'; valid datasets: EmnistDataset, SyntheticLinesDataset"),
        ({"model": "Big"}, "Unknown model 'Big'; valid models: CharacterModel, LineModelCtc"),
        ({"network": "vgg"}, "Unknown network 'vgg'; valid networks: lenet, line_cnn_lstm, mlp"),
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


def test_tiny_experiment_trains_and_reports(data_root, capsys):
    main(["--nowandb", json.dumps(TINY)])
    out = capsys.readouterr().out
    assert "Training took" in out and "test_accuracy=" in out and "val_loss=" in out
