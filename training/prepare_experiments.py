"""Print one run_experiment command per experiment in a file, for `... | parallel -j<number of GPUs>`."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def experiment_commands(experiments_file: Path) -> list[str]:
    """Commands that each take a free GPU (`--gpu=-1`) and run one experiment of the file's group."""
    spec = json.loads(experiments_file.read_text())
    if not isinstance(spec, dict) or not isinstance(spec.get("experiments"), list):
        raise ValueError(f"{experiments_file} must hold {{'experiment_group': ..., 'experiments': [...]}}")
    commands = []
    for experiment in spec["experiments"]:
        config = {**experiment, "experiment_group": spec.get("experiment_group", experiments_file.stem)}
        commands.append(shlex.join(["python", "training/run_experiment.py", "--gpu=-1", json.dumps(config)]))
    return commands


def main() -> None:
    """Parse the file name and print the commands."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiments_file", type=Path)
    args = parser.parse_args()
    try:
        print("\n".join(experiment_commands(args.experiments_file)))
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
