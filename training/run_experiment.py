"""Run one experiment described by JSON: build the dataset, model and network, fit, evaluate, optionally save."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

from training import runs
from training.distribute import DISTRIBUTE_CHOICES, distribution_scope

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
    "backbone_lr_factor": float,
    "freeze_epochs": float,
    "mixed_bfloat16": bool,
    "bucket_widths": bool,
    "seed": int,
    "distribute": str,
    "overfit_batches": int,
}
# Train args that may be 0; the others must be positive.
NON_NEGATIVE_TRAIN_ARGS = ("seed", "overfit_batches", "freeze_epochs")
FRACTION_TRAIN_ARGS = ("ema_momentum",)  # Train args that must also be below 1.
WANDB_PROJECT = "text-recognizer"
PRETRAINED = "pretrained"  # `--init-from pretrained`: the published weights of the experiment's network.
# What a model records of each saved model it started from.
PROVENANCE = ("run", "command", "commit", "data_version", "history", "init_from")
NON_FINITE_ADVICE = (
    "The last good epoch's checkpoint is kept in {run_dir}. Try a lower learning_rate, clip_norm (e.g. 1.0) "
    "or lr_decay, then start a new run; --resume {run_dir} would repeat the same steps."
)

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
        if expected is str:
            if value not in DISTRIBUTE_CHOICES:
                choices = ", ".join(DISTRIBUTE_CHOICES)
                raise ValueError(f"train_args.{key} must be one of {choices}, got {json.dumps(value)}")
            continue
        if expected is bool:
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and (expected is float or value == int(value))
            ok = ok and (value >= 0 if sign == "non-negative" else value > 0) and (not bound or value < 1)
        if not ok:
            kind = "bool" if expected is bool else f"{sign} {expected.__name__}{bound}"
            raise ValueError(f"train_args.{key} must be a {kind}, got {json.dumps(value)}")


def select_gpus(gpu: int, gpus: int | None) -> None:
    """Show the framework only the GPUs the run may use, before any framework loads: `gpus` free GPUs (waiting until
    that many are free at once) for `train_args.distribute` "mirrored"; else GPU `gpu`, or where it is negative, a
    free GPU, or the CPU where there is no GPU (so a sweep's commands run anywhere)."""
    from training.gpu_manager import acquire_free_gpus, gpu_count

    if gpus is not None:
        indices = acquire_free_gpus(gpus)
    elif gpu >= 0:
        indices = [gpu]
    elif gpu_count() == 0:
        logger.warning("No NVIDIA GPU found: training on the CPU")
        indices = []
    else:
        indices = acquire_free_gpus(1)
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, indices))


def wandb_callbacks(config: dict[str, Any], run_dir: Path) -> list:
    """Start a W&B run in the run directory (offline when no API key is set) and return its Keras callback; [] if
    W&B is missing. Under a W&B sweep agent this joins the agent's run."""
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
        dir=run_dir,
        name=run_dir.name,
    )
    return [WandbMetricsLogger()]


def build_experiment(config: dict[str, Any]) -> tuple[Any, Any]:
    """Load the experiment's dataset and build its model; bad names or arguments raise ValueError.

    The model's weights are drawn from `train_args.seed`, so an experiment trains alike every time it runs
    (on the same software and kind of CPU).
    """
    import keras

    from text_recognizer.augment import Augmenter
    from text_recognizer.datasets import DATASETS
    from text_recognizer.models import MODELS
    from text_recognizer.models.base import DEFAULT_SEED
    from text_recognizer.util import call_with_args, lookup

    dataset_cls = lookup(DATASETS, config["dataset"], "dataset")
    model_cls = lookup(MODELS, config["model"], "model")
    dataset_args = {key: value for key, value in config["dataset_args"].items() if key != "augment"}
    dataset = call_with_args(dataset_cls, dataset_args, "dataset_args")
    dataset.load_or_generate_data()
    print(dataset)
    keras.utils.set_random_seed(config["train_args"].get("seed", DEFAULT_SEED))
    model = model_cls(config["network"], config["network_args"], {**dataset.config(), **config})
    if "augment" in config["dataset_args"]:
        if not hasattr(model, "augmenter"):
            raise ValueError(f"dataset_args.augment applies to line models, not {config['model']}")
        model.augmenter = Augmenter(config["dataset_args"]["augment"])
    return dataset, model


def init_weights(model: Any, artifacts: list[Path]) -> None:
    """Start from a saved model's weights (fine-tuning; it must be the same model, network and mapping), from the mean
    of several saved models' weights, or, with `--init-from pretrained`, from the published weights of a pretrained
    network (see `text_recognizer.pretrained`).

    Models fine-tuned from the same start (on other mixes of data, say) stay close enough that the mean of their
    weights reads well, often better than each of them: a "model soup". The mean starts from their mean char widths.
    The model then carries the attributions of the weights it starts from.
    """
    if any(str(artifact) == PRETRAINED for artifact in artifacts):
        if len(artifacts) > 1:
            raise ValueError(f"--init-from {PRETRAINED} starts from the published weights alone; give it once")
        from text_recognizer.pretrained import ATTRIBUTION, load_pretrained, weights_for

        published = weights_for(model.network_name)
        shared = load_pretrained(model.network, model.network_name, model.mapping)
        _add_attribution(model, [ATTRIBUTION])
        model.data_config["pretrained"] = {"weights": published.title, "sha256": published.onnx_sha256}
        classes = len(model.mapping)
        print(f"Starting from {published.title}'s published weights; {shared} of {classes} classes from its head")
        return
    from text_recognizer.models.base import weights_path

    saved, weights = [], []
    for artifact in artifacts:
        saved.append(_matching_artifact(model, artifact))
        model.network.load_weights(weights_path(artifact))
        weights.append(model.network.get_weights())
    model.network.set_weights([_mean(arrays) for arrays in zip(*weights, strict=True)])
    widths = [config["char_width"] for config in saved if "char_width" in config]
    if widths:  # Fine-tuning reads lines at the widths the model knows.
        model.char_width = {key: round(float(np.mean([width[key] for width in widths])), 2) for key in widths[0]}
    for config in saved:
        _add_attribution(model, config.get("attribution", []))
        if "pretrained" in config:
            model.data_config.setdefault("pretrained", config["pretrained"])
    # Run directories are not shipped: the model names the runs it started from and how each was made, so that its
    # own command can be reproduced from commands alone.
    model.data_config["init_from"] = [
        {"path": str(artifact), **{key: config[key] for key in PROVENANCE if key in config}}
        for artifact, config in zip(artifacts, saved, strict=True)
    ]
    mean = "the mean of the " if len(artifacts) > 1 else "the "
    print(f"Starting from {mean}weights of {', '.join(map(str, artifacts))}")


def _matching_artifact(model: Any, artifact: Path) -> dict[str, Any]:
    """The JSON of a saved model to start from, checked against the experiment's model."""
    from text_recognizer.models.base import weights_path

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
    if not weights_path(artifact).exists():
        raise ValueError(f"{weights_path(artifact)} is missing: the model to start from has no weights")
    return saved


def _mean(arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    """The mean of one weight over several models; counters and other integer state come from the first."""
    if arrays[0].dtype.kind != "f":
        return arrays[0]
    return np.mean(np.stack(arrays).astype(np.float64), axis=0).astype(arrays[0].dtype)


def _add_attribution(model: Any, credits: list[str]) -> None:
    """Add credits that the model's JSON must carry (those of its data are there already)."""
    attribution = model.data_config.setdefault("attribution", [])
    attribution.extend(credit for credit in credits if credit not in attribution)


def run_callbacks(run_dir: Path, dataset: Any, model: Any, use_wandb: bool, config: dict[str, Any]) -> list:
    """The callbacks that fill the run directory (and W&B): timings, GPU use, metrics CSV, curves, predictions."""
    import keras

    from training.callbacks import CurvesPlot, EpochTimer, PredictionImages
    from training.gpu_util_sampler import GpuUtilSampler

    callbacks = [EpochTimer(), GpuUtilSampler()]
    if hasattr(model, "predict_texts"):  # Line models: show a few validation lines as read each epoch.
        rows = model.fit_rows(dataset, config["train_args"])[1][: runs.PREDICTION_LINES]
        callbacks.append(PredictionImages(run_dir, model, dataset.x_train[rows], dataset.y_train[rows]))
    # Appending, so that a resumed run keeps its earlier epochs.
    callbacks += [keras.callbacks.CSVLogger(str(run_dir / runs.METRICS), append=True), CurvesPlot(run_dir)]
    return callbacks + (wandb_callbacks(config, run_dir) if use_wandb else [])


def run_experiment(config: dict[str, Any], dataset: Any, model: Any, run_dir: Path, use_wandb: bool) -> dict:
    """Fit the model in its run directory, evaluate its best epoch on the test split and save the artifact there.

    Returns:
        The run's summary (also written to `summary.json`): status, best epoch, test and validation metrics.
    """
    print(f"Run directory: {run_dir}")
    callbacks = run_callbacks(run_dir, dataset, model, use_wandb, config)
    model.fit(dataset, config["train_args"], callbacks, run_dir=run_dir)
    history = runs.curves(run_dir)
    monitor, mode = model.monitor
    summary = {
        "status": "finished",
        "monitor": monitor,
        "mode": mode,
        "best_epoch": model.best_epoch,
        "best": history[monitor][model.best_epoch - 1] if model.best_epoch and monitor in history else None,
        "epochs_run": len(history.get("loss", [])),
        "train_seconds": round(sum(history.get("epoch_s", [])), 1),
    }
    if model.stopped_at is not None:
        epoch, batch = model.stopped_at
        summary["status"] = f"stopped: non-finite loss at epoch {epoch}, batch {batch}"
    else:
        summary["metrics"] = {f"test_{k}": v for k, v in model.evaluate(dataset.x_test, dataset.y_test).items()}
        saved = runs.read_json(run_dir / runs.CONFIG)
        extra = {"train_args": config["train_args"], "metrics": summary["metrics"], "history": history}
        run = {"run": f"{run_dir.parent.name}/{run_dir.name}", "best_epoch": model.best_epoch}
        extra = {**extra, **run, "command": saved["command"], "commit": saved.get("commit", "unknown")}
        summary["artifact"] = model.save(extra, run_dir).name
    runs.write_json(run_dir / runs.SUMMARY, summary)
    print(", ".join(f"{k}={v}" for k, v in summary.items()))
    if use_wandb:
        import wandb

        wandb.log(summary.get("metrics", {}))
        wandb.finish()
    return summary


def start_run(args: argparse.Namespace, command: str) -> tuple[dict[str, Any], Path | None, list[Path]]:
    """The experiment, its run directory when it resumes one (else None, made once the model is named) and the
    models to start from."""
    if args.resume is None:
        if args.experiment_config is None:
            raise ValueError("Give an experiment's JSON, or --resume RUN_DIR")
        return parse_experiment(args.experiment_config), None, args.init_from or []
    saved = runs.read_json(args.resume / runs.CONFIG)
    if (args.resume / runs.SUMMARY).exists():
        raise ValueError(f"{args.resume} has ended already (see its {runs.SUMMARY}); start a new run instead")
    if args.experiment_config is not None or args.init_from is not None:
        raise ValueError("--resume takes the experiment and --init-from of the run it resumes; give neither")
    init_from = saved.get("init_from") or []
    init_from = [init_from] if isinstance(init_from, str) else init_from  # Runs saved one path, before lists.
    return parse_experiment(json.dumps(saved["experiment"])), args.resume, [Path(path) for path in init_from]


def build_parser() -> argparse.ArgumentParser:
    """The command line of a run (shipped models record theirs, and a test parses each with this)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("experiment_config", nargs="?", help='JSON, e.g. \'{"dataset": "EmnistDataset", ...}\'')
    gpu = parser.add_mutually_exclusive_group()
    gpu.add_argument("--gpu", type=int, default=0, help="GPU index; negative: take a free GPU")
    gpu.add_argument("--gpus", type=int, help='take N free GPUs (for train_args.distribute "mirrored")')
    parser.add_argument("--nowandb", action="store_true", help="do not track with Weights & Biases")
    parser.add_argument(
        "--init-from",
        type=Path,
        action="append",
        help=f"a saved model's .json whose weights training starts from (repeated: the mean of their weights), or "
        f"{PRETRAINED!r}: the published weights of the experiment's network (ppocr_rec_tiny, ppocr_rec_small)",
    )
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a run that stopped")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, then build, fit and evaluate in a run directory."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    command = shlex.join(["python", "training/run_experiment.py", *(sys.argv[1:] if argv is None else argv)])
    commit = runs.source_commit()  # Before any code is imported, so the run names the code it runs.
    try:
        select_gpus(args.gpu, args.gpus)
        config, run_dir, init_from = start_run(args, command)
        with distribution_scope(config["train_args"].get("distribute", "none")):
            dataset, model = build_experiment(config)
            if init_from:
                init_weights(model, init_from)
            if run_dir is None:
                run_dir = runs.new_run_dir(config.get("experiment_group") or "default", model.name)
                saved = {
                    "experiment": config,
                    "command": command,
                    "init_from": [str(path) for path in init_from],
                    "commit": commit,
                }
                runs.write_json(run_dir / runs.CONFIG, saved)
            summary = run_experiment(config, dataset, model, run_dir, use_wandb=not args.nowandb)
    except ValueError as e:
        parser.exit(2, f"error: {e}\n")
    if summary["status"] != "finished":
        parser.exit(1, f"error: {summary['status']}. {NON_FINITE_ADVICE.format(run_dir=run_dir)}\n")


if __name__ == "__main__":
    main()
