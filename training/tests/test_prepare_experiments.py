import json
import shlex
from pathlib import Path

import pytest

from training.prepare_experiments import experiment_commands
from training.wandb_sweep import experiment_with

SAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "sample.json"


def test_sample_file_gives_one_command_per_experiment():
    commands = experiment_commands(SAMPLE)
    assert len(commands) == 3
    args = shlex.split(commands[0])
    assert args[:3] == ["python", "training/run_experiment.py", "--gpu=-1"]
    config = json.loads(args[3])
    assert config["network"] == "mlp" and config["experiment_group"] == "Sample experiments"


def test_file_without_experiments_is_rejected(tmp_path):
    (tmp_path / "bad.json").write_text('{"runs": []}')
    with pytest.raises(ValueError, match="experiments"):
        experiment_commands(tmp_path / "bad.json")


def test_a_sweep_agents_parameters_set_keys_of_the_base_experiment():
    base = {"network": "line_cnn_lstm", "network_args": {"lstm_units": 96}, "train_args": {"epochs": 12}}
    parameters = {"network_args.lstm_units": 64, "train_args.learning_rate": 0.003, "experiment_group": "sweep"}
    assert experiment_with(base, parameters) == {
        "network": "line_cnn_lstm",
        "network_args": {"lstm_units": 64},
        "train_args": {"epochs": 12, "learning_rate": 0.003},
        "experiment_group": "sweep",
    }
    assert base["network_args"] == {"lstm_units": 96}
