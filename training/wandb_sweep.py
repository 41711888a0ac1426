"""Entry point of a W&B sweep agent: one experiment with the agent's sampled parameters.

    wandb sweep training/experiments/line_wandb_sweep.yaml    # once: prints the sweep ID
    wandb agent ENTITY/text-recognizer/SWEEP_ID                # on every machine (one per GPU)

The agent runs this script with the parameters as JSON (`${args_json}`); a dotted name such as
`network_args.lstm_units` sets that key of the base experiment. Each run trains through `run_experiment.py`
(taking a free GPU, with its own run directory) and logs to the sweep's W&B run.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

from training.run_experiment import main as run_experiment


def experiment_with(base: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The base experiment with each dotted parameter name set to its value."""
    experiment = copy.deepcopy(base)
    for name, value in parameters.items():
        *parents, key = name.split(".")
        node = experiment
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return experiment


def main() -> None:
    """Merge the agent's parameters into the base experiment and run it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="experiment JSON the parameters change")
    parser.add_argument("parameters", help="the agent's sampled parameters as JSON")
    args = parser.parse_args()
    experiment = experiment_with(json.loads(args.base.read_text()), json.loads(args.parameters))
    run_experiment(["--gpu=-1", json.dumps(experiment)])


if __name__ == "__main__":
    main()
