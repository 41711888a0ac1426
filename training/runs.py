"""Run directories: `runs/<group>/<name>-<time>/` holds a run's config, per-epoch metrics, curves, prediction
images, checkpoints and final artifact; these helpers make, log to and read them."""

from __future__ import annotations

import csv
import datetime
import json
import math
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from text_recognizer.datasets.dataset import atomic_path

RUNS_ENV = "TEXT_RECOGNIZER_RUNS"
CONFIG = "config.json"  # The experiment, the command and where its weights started.
METRICS = "metrics.csv"  # One row per epoch (a resumed epoch's last row counts).
CURVES = "curves.png"
PREDICTIONS = "predictions"  # predictions/epoch-NNN.png: validation lines with what the model read.
SUMMARY = "summary.json"  # Written when the run ends: status, best epoch, test metrics, artifact.
PREDICTION_LINES = 6


def runs_dir() -> Path:
    """Where runs are written: `$TEXT_RECOGNIZER_RUNS`, else `runs/` in the working directory."""
    return Path(os.environ.get(RUNS_ENV, "runs"))


def slug(text: str) -> str:
    """A folder-safe form of a group or model name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def new_run_dir(group: str, name: str) -> Path:
    """Create and return a fresh `runs/<group>/<name>-<UTC time>/` (a counter is added if two start at once)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
    parent = runs_dir() / slug(group)
    parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1000):
        run_dir = parent / f"{slug(name)}-{stamp}{f'-{attempt}' if attempt else ''}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
    raise ValueError(f"Cannot make a new run directory under {parent}")


def source_commit() -> str:
    """The git commit of the code a run trains with ("+changes" when the work tree differs from it; "unknown"
    outside a git checkout)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if changes else "")


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content, indent=2) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """Read a run's JSON file, with a clear error when it is missing or torn."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"Cannot read {path}: {e}; is {path.parent} a run directory?") from e


def epoch_rows(run_dir: Path) -> list[dict[str, float]]:
    """The run's per-epoch metrics, one row per epoch (the last one written for an epoch that was rerun)."""
    path = run_dir / METRICS
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = {int(row["epoch"]): row for row in csv.DictReader(f)}
    return [{k: float(v) for k, v in rows[epoch].items() if _is_number(v)} for epoch in sorted(rows)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def curves(run_dir: Path) -> dict[str, list[float]]:
    """The metrics of every epoch by name, rounded, as saved in an artifact's `history`."""
    rows = epoch_rows(run_dir)
    names = [name for name in rows[0] if name != "epoch"] if rows else []
    return {name: [round(row.get(name, math.nan), 5) for row in rows] for name in names}


def plot_curves(history: dict[str, list[float]], path: Path) -> None:
    """Draw the curves of `history` (name -> per-epoch values) into a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    skip = {"epoch_s", "elapsed_s", "learning_rate"}
    losses = [name for name in history if "loss" in name]
    others = [name for name in history if name not in losses and name not in skip and not name.startswith("gpu")]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, names, title in ((axes[0], losses, "loss"), (axes[1], others, "metrics")):
        for name in names:
            ax.plot(range(1, len(history[name]) + 1), history[name], marker="o", label=name)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        if names:
            ax.legend()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=80)
    plt.close(figure)


def draw_predictions(x: np.ndarray, predictions: list[str], truths: list[str], path: Path) -> None:
    """Stack line images, each captioned with the prediction and the truth, into a PNG, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(x), 1, figsize=(10, 1.2 * len(x)), squeeze=False)
    for ax, image, predicted, truth in zip(axes[:, 0], x, predictions, truths, strict=True):
        ax.imshow(image, cmap="gray_r", aspect="auto")
        ax.set_title(f"read: {predicted!r}   truth: {truth!r}", fontsize=8, loc="left")
        ax.axis("off")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=80)
    plt.close(figure)


def log_image_to_wandb(key: str, path: Path, epoch: int) -> None:
    """Log an image to the active W&B run, if there is one."""
    try:
        import wandb
    except ImportError:
        return
    if wandb.run is not None:
        wandb.log({key: wandb.Image(str(path))}, commit=False)  # Joins the metrics the epoch logs next.


def group_runs(group: str) -> list[Path]:
    """The run directories of an experiment group, oldest first."""
    parent = runs_dir() / slug(group)
    found = sorted(p for p in parent.glob("*") if (p / CONFIG).exists()) if parent.is_dir() else []
    if not found:
        raise ValueError(f"No runs of group {group!r} under {runs_dir()}")
    return found


def run_record(run_dir: Path) -> dict[str, Any]:
    """A run's config, summary (status "unfinished" until it ends) and seconds trained so far."""
    summary = read_json(run_dir / SUMMARY) if (run_dir / SUMMARY).exists() else {"status": "unfinished"}
    history = curves(run_dir)
    return {
        "run": run_dir.name,
        "dir": run_dir,
        "experiment": read_json(run_dir / CONFIG)["experiment"],
        "epochs": len(history.get("loss", [])),
        "seconds": sum(history.get("epoch_s", [])),
        **summary,
    }


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config keys joined by dots: {"train_args": {"epochs": 3}} -> {"train_args.epochs": 3}."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
