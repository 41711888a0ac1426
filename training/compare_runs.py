"""Print a table of an experiment group's runs: what their configs change, their best validation metric, test
metrics and training time, best run first."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from training import runs


def differing_keys(records: list[dict[str, Any]]) -> list[str]:
    """Config keys (flattened) whose values are not the same in every run."""
    configs = [runs.flatten(record["experiment"]) for record in records]
    keys = sorted({key for config in configs for key in config})
    return [key for key in keys if len({json.dumps(config.get(key)) for config in configs}) > 1]


def rank_key(record: dict[str, Any]) -> float:
    """Sort key: best validation value first (unfinished and stopped runs last)."""
    best = record.get("best")
    if best is None or record["status"] != "finished":
        return math.inf
    return best if record["mode"] == "min" else -best


def table(records: list[dict[str, Any]]) -> str:
    """The runs as a Markdown table, best first."""
    keys = differing_keys(records)
    header = ["run", *keys, "status", "epochs", "best validation (epoch)", "test", "minutes"]
    rows = [header, ["---"] * len(header)]
    for record in sorted(records, key=rank_key):
        config = runs.flatten(record["experiment"])
        best = record.get("best")
        best_text = f"{record['monitor']} {best:.4f} ({record['best_epoch']})" if best is not None else "-"
        tests = ", ".join(f"{k} {v:.4f}" for k, v in record.get("metrics", {}).items()) or "-"
        status = record["status"].split(":")[0]
        values = [json.dumps(config.get(key)) for key in keys]
        rows.append(
            [record["run"], *values, status, str(record["epochs"]), best_text, tests, f"{record['seconds'] / 60:.1f}"]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main() -> None:
    """Parse the group and print its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("group", help="experiment group (a folder under runs/)")
    args = parser.parse_args()
    try:
        print(table([runs.run_record(run_dir) for run_dir in runs.group_runs(args.group)]))
    except ValueError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
