"""Stage the best finished run of an experiment group into text_recognizer/weights: its weights, JSON and ONNX."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from text_recognizer import WEIGHTS_DIR
from text_recognizer.datasets.dataset import DownloadError, atomic_path
from text_recognizer.run_files import BEST, CHECKPOINT
from training import runs
from training.artifact_store import ArtifactStore, StoreError, store_key
from training.compare_runs import rank_key


def best_run(group: str) -> dict[str, Any]:
    """The finished run of `group` with the best value of its model's validation metric (e.g. the lowest val_cer).

    Runs with `train_args.overfit_batches` validate on their training lines, so they are never picked.
    """
    records = [
        record
        for record in map(runs.run_record, runs.group_runs(group))
        if record.get("artifact") and not record["experiment"].get("train_args", {}).get("overfit_batches")
    ]
    if not records:
        raise ValueError(f"No run of group {group!r} has finished with an artifact (overfit runs are not staged)")
    return min(records, key=rank_key)


def fetch_group(group: str) -> None:
    """Download the runs of `group` from the artifact store into the runs folder, without their checkpoints."""
    store = ArtifactStore()
    store.download(store_key(store, "run", group), runs.runs_dir() / group, skip=(CHECKPOINT, BEST))


def stage(record: dict[str, Any], weights_dir: Path = WEIGHTS_DIR) -> list[Path]:
    """Copy the run's artifact files into `weights_dir`, each atomically; export ONNX first if the run has none."""
    artifact = record["dir"] / record["artifact"]
    stem = artifact.name.removesuffix(".json")
    onnx = artifact.with_suffix(".onnx")
    if not onnx.exists():  # Runs on the JAX backend save no ONNX.
        from text_recognizer.export_onnx import export

        export(artifact)
    staged = []
    for name in (f"{stem}.weights.h5", f"{stem}.onnx", artifact.name):  # The JSON last: it names a whole artifact.
        with atomic_path(weights_dir / name) as tmp:
            shutil.copyfile(record["dir"] / name, tmp)
        staged.append(weights_dir / name)
    return staged


def main() -> None:
    """Pick the best run of the group and stage it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("group", help="experiment group (a folder under runs/)")
    parser.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR, help="where to stage (default: shipped)")
    parser.add_argument("--from-store", action="store_true", help="first fetch the group's runs from the S3 store")
    parser.add_argument("--print", action="store_true", help="print the best run's artifact JSON; stage nothing")
    args = parser.parse_args()
    try:
        if args.from_store:
            fetch_group(args.group)
        record = best_run(args.group)
    except (ValueError, StoreError, DownloadError) as e:
        sys.exit(f"error: {e}")
    if args.print:  # For scripts that start from the group's best model (--init-from).
        print(record["dir"] / record["artifact"])
        return
    print(f"Best run of {args.group}: {record['dir']} ({record['monitor']} {record['best']:.4f})")
    for path in stage(record, args.weights_dir):
        print(f"staged {path}")


if __name__ == "__main__":
    main()
