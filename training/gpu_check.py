"""Train the default line model for some steps on the backend's device and print lines per second."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

EXPERIMENT = Path(__file__).parent / "experiments" / "line.json"
WARMUP_STEPS = 5  # Compilation happens here; not timed.


def lines_per_second(steps: int, batch_size: int) -> tuple[float, str]:
    """Train steps of the default line model on synthetic lines; return lines/s and the device it ran on."""
    import keras

    from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset
    from text_recognizer.models import LineModelCtc

    experiment = json.loads(EXPERIMENT.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TEXT_RECOGNIZER_DATA"] = tmp
        dataset = SyntheticLinesDataset(num_train=4 * batch_size, num_test=1, max_length=40)
        dataset.load_or_generate_data()
    model = LineModelCtc(experiment["network"], experiment["network_args"], dataset.config())
    model.network.compile(optimizer=keras.optimizers.Adam(1e-3), loss=model.loss())
    batches = [model.format_batch(dataset.x_train[i::4].astype(np.float32), dataset.y_train[i::4]) for i in range(4)]
    for step in range(WARMUP_STEPS):
        model.network.train_on_batch(*batches[step % 4])
    start = time.perf_counter()
    for step in range(steps):
        loss = model.network.train_on_batch(*batches[step % 4])
    float(np.asarray(loss))  # Waits for the last step.
    device = str(keras.distribution.list_devices()[0]) if keras.backend.backend() == "jax" else "tensorflow default"
    return steps * batch_size / (time.perf_counter() - start), device


def main() -> None:
    """Parse the step count and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    import keras

    rate, device = lines_per_second(args.steps, args.batch_size)
    print(f"{keras.backend.backend()} on {device}: {rate:.1f} lines/s ({args.steps} steps of {args.batch_size})")


if __name__ == "__main__":
    main()
