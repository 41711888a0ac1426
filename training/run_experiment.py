"""Run one experiment described by JSON: build the dataset, model and network, fit, evaluate, optionally save."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

EXPERIMENT_KEYS = ("dataset", "dataset_args", "model", "network", "network_args", "train_args", "experiment_group")
REQUIRED_KEYS = ("dataset", "model", "network")
TRAIN_ARG_TYPES = {
    "batch_size": int,
    "epochs": int,
    "learning_rate": float,
    "early_stopping": bool,
    "lr_decay": bool,
    "clip_norm": float,
    "ema_momentum": float,
    "seed": int,
}
NON_NEGATIVE_TRAIN_ARGS = ("seed",)  # Train args that may be 0; the others must be positive.
FRACTION_TRAIN_ARGS = ("ema_momentum",)  # Train args that must also be below 1.
WANDB_PROJECT = "text-recognizer"

logger = logging.getLogger("run_experiment")


def parse_experiment(text: str) -> dict[str, Any]:
    """Parse and validate experiment JSON, raising ValueError with a one-line explanation."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f'Malformed experiment JSON ({e}); expected e.g. \'{{"dataset": ..., "model": ...}}\'') from e
    if not isinstance(config, dict):
        raise ValueError(f"Experiment JSON must be an object with keys {', '.join(EXPERIMENT_KEYS)}")
    unknown = set(config) - set(EXPERIMENT_KEYS)
    if unknown:
        raise ValueError(f"Unknown experiment keys {sorted(unknown)}; valid keys: {', '.join(EXPERIMENT_KEYS)}")
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise ValueError(f"Experiment JSON lacks {missing}; required keys: {', '.join(REQUIRED_KEYS)}")
    for key in ("dataset_args", "network_args", "train_args"):
        if not isinstance(config.setdefault(key, {}), dict):
            raise ValueError(f"{key} must be a JSON object, got {json.dumps(config[key])}")
    _check_train_args(config["train_args"])
    return config


def _check_train_args(train_args: dict[str, Any]) -> None:
    for key, value in train_args.items():
        expected = TRAIN_ARG_TYPES.get(key)
        if expected is None:
            raise ValueError(f"Unknown train_args key {key!r}; valid keys: {', '.join(TRAIN_ARG_TYPES)}")
        sign = "non-negative" if key in NON_NEGATIVE_TRAIN_ARGS else "positive"
        bound = " below 1" if key in FRACTION_TRAIN_ARGS else ""
        if expected is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (expected is float or value == int(value))
            ok = ok and (value >= 0 if sign == "non-negative" else value > 0) and (not bound or value < 1)
        if not ok:
            kind = "bool" if expected is bool else f"{sign} {expected.__name__}{bound}"
            raise ValueError(f"train_args.{key} must be a {kind}, got {json.dumps(value)}")


def select_gpu(gpu: int) -> None:
    """Expose only GPU `gpu` to TensorFlow; a negative number asks the GPU manager for a free one."""
    if gpu < 0:
        from training.gpu_manager import acquire_free_gpu

        gpu = acquire_free_gpu()
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)


def wandb_callbacks(config: dict[str, Any]) -> list:
    """Start a W&B run (offline when no API key is set) and return its Keras callback; [] if W&B is missing."""
    try:
        import wandb
        from wandb.integration.keras import WandbMetricsLogger
    except ImportError:
        logger.warning("wandb is not installed; training without experiment tracking")
        return []
    online = bool(os.environ.get("WANDB_API_KEY"))
    wandb.init(
        project=WANDB_PROJECT,
        config=config,
        group=config.get("experiment_group"),
        mode="online" if online else "offline",
    )
    return [WandbMetricsLogger()]


def build_experiment(config: dict[str, Any]) -> tuple[Any, Any]:
    """Load the experiment's dataset and build its model; bad names or arguments raise ValueError.

    The model's weights are drawn from `train_args.seed`, so an experiment trains alike every time it runs
    (on the same software and kind of CPU).
    """
    import keras

    from text_recognizer.datasets import DATASETS
    from text_recognizer.models import MODELS
    from text_recognizer.models.base import DEFAULT_SEED
    from text_recognizer.util import call_with_args, lookup

    dataset_cls = lookup(DATASETS, config["dataset"], "dataset")
    model_cls = lookup(MODELS, config["model"], "model")
    dataset = call_with_args(dataset_cls, config["dataset_args"], "dataset_args")
    dataset.load_or_generate_data()
    print(dataset)
    keras.utils.set_random_seed(config["train_args"].get("seed", DEFAULT_SEED))
    return dataset, model_cls(config["network"], config["network_args"], {**dataset.config(), **config})


def init_weights(model: Any, artifact: Path) -> None:
    """Start from a saved model's weights (fine-tuning); it must be the same model, network and mapping."""
    try:
        saved = json.loads(artifact.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read the model to start from, {artifact}: {e}") from e
    ours = {"model": type(model).__name__, "network": model.network_name, "network_args": model.network_args}
    for key, value in ours.items():
        if saved.get(key) != value:
            raise ValueError(f"{artifact} has {key} {json.dumps(saved.get(key))}; the experiment's must match it")
    if saved.get("mapping") != model.mapping:
        raise ValueError(f"{artifact} reads other characters than the experiment's dataset")
    from text_recognizer.models.base import weights_path

    weights = weights_path(artifact)
    if not weights.exists():
        raise ValueError(f"{weights} is missing: the model to start from has no weights")
    model.network.load_weights(weights)
    if "char_width" in saved:
        model.char_width = saved["char_width"]  # Fine-tuning reads lines at the widths the model knows.
    print(f"Starting from the weights of {artifact}")


def run_experiment(config: dict[str, Any], dataset: Any, model: Any, save: bool, use_wandb: bool, command: str) -> dict:
    """Fit the model, evaluate it on the test split and optionally save the artifact."""
    callbacks = wandb_callbacks(config) if use_wandb else []
    start = time.monotonic()
    history = model.fit(dataset, config["train_args"], callbacks)
    train_seconds = time.monotonic() - start
    metrics = {f"test_{k}": v for k, v in model.evaluate(dataset.x_test, dataset.y_test).items()}
    metrics |= {"train_seconds": round(train_seconds, 1), "epochs_run": len(history.epoch)}
    metrics |= {k: round(float(v[-1]), 5) for k, v in history.history.items() if k.startswith("val_")}
    print(f"Training took {train_seconds:.1f} s; " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    if use_wandb:
        import wandb

        wandb.log(metrics)
        wandb.finish()
    if save:
        curves = {k: [round(float(x), 5) for x in v] for k, v in history.history.items()}
        path = model.save(
            {"train_args": config["train_args"], "metrics": metrics, "history": curves, "command": command}
        )
        print(f"Saved {path}")
    return metrics


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, then build, fit and evaluate."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment_config", help='JSON, e.g. \'{"dataset": "EmnistDataset", ...}\'')
    parser.add_argument("--save", action="store_true", help="save weights and JSON to text_recognizer/weights")
    parser.add_argument("--gpu", type=int, default=0, help="GPU index; negative: take a free GPU")
    parser.add_argument("--nowandb", action="store_true", help="do not track with Weights & Biases")
    parser.add_argument("--init-from", type=Path, help="a saved model's .json whose weights training starts from")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = shlex.join(["python", "training/run_experiment.py", *(sys.argv[1:] if argv is None else argv)])
    try:
        config = parse_experiment(args.experiment_config)
        select_gpu(args.gpu)
        dataset, model = build_experiment(config)
        if args.init_from:
            init_weights(model, args.init_from)
    except ValueError as e:
        parser.exit(2, f"error: {e}\n")
    run_experiment(config, dataset, model, save=args.save, use_wandb=not args.nowandb, command=command)


if __name__ == "__main__":
    main()
