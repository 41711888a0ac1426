"""Model base: builds a network for a dataset, fits, evaluates, and saves/loads the weights + JSON artifact."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from text_recognizer.datasets.dataset import Dataset, atomic_path
from text_recognizer.datasets.sequence import DatasetSequence
from text_recognizer.models.checkpoint import EpochCheckpoint, StopOnNonFiniteLoss
from text_recognizer.networks import NETWORKS
from text_recognizer.util import call_with_args, lookup

DEFAULT_SEED = 0
DATA_KEYS = (
    "dataset", "dataset_args", "input_shape", "output_shape", "mapping", "data_version", "attribution", "pretrained"
)  # fmt: skip
DEFAULT_TRAIN_ARGS = {
    "batch_size": 64,
    "epochs": 16,
    "learning_rate": 1e-3,
    "early_stopping": True,
    "lr_decay": False,
    "clip_norm": None,  # Largest global norm of a step's gradients (None: no clipping).
    "ema_momentum": None,  # Validate and save an exponential moving average of the weights (None: the weights).
    # Fine-tuning: the learning rate of every layer but the classifier (the network's last layer), as a fraction of
    # `learning_rate`, and epochs at the start (fractions allowed) during which only the classifier learns.
    "backbone_lr_factor": 1.0,
    "freeze_epochs": 0,
    # Train in Keras's mixed_bfloat16 policy (bfloat16 arithmetic, float32 weights): faster on CPUs with AVX512_BF16
    # or AMX and on recent GPUs. The fitted model computes in float32 again, as it is evaluated, saved and exported.
    "mixed_bfloat16": False,
    # Models that read lines of any width: batch training lines of similar width, so each batch is trimmed to its
    # widest line with little padding left (False: lines drawn at random, each batch padded to its widest).
    "bucket_widths": True,
    "seed": DEFAULT_SEED,  # Seeds the batch order and augmentation here, and the initial weights in `run_experiment`.
    # Train and validate on the first N training batches only, unshuffled and unaugmented (0: off): a check that
    # the model and its data pipeline can learn at all, which should end near zero loss and error.
    "overfit_batches": 0,
}
LR_DECAY_FLOOR = 0.02  # With lr_decay, the learning rate follows a cosine from its start value to this fraction.


def _fuse_exact_gelu(path: Path) -> None:
    """Rewrite each exact GELU (erf and four element-wise ops, as exported) as ONNX Runtime's single Gelu node.

    ONNX Runtime fuses that pattern itself only where it divides by √2 and its constants are scalars; the converter
    turns the division into a multiplication and broadcasts the constants, so left alone every GELU runs as five
    passes over its tensor and breaks the blocked-layout convolutions around it.
    """
    import onnx
    from onnxruntime.transformers.fusion_gelu import FusionGelu
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = OnnxModel(onnx.load(str(path)))
    FusionGelu(model).apply()
    model.prune_graph()
    model.save_model_to_file(str(path))


def weights_path(json_path: Path) -> Path:
    """The `.weights.h5` file saved beside a model's `.json`."""
    return Path(str(json_path).removesuffix(".json") + ".weights.h5")


def build_network(name: str, input_shape: tuple[int, ...], num_classes: int, network_args: dict) -> keras.Model:
    """Call the registered builder `name`; unknown names or arguments raise one clear ValueError."""
    builder = lookup(NETWORKS, name, "network")
    return call_with_args(builder, network_args, "network_args", input_shape, num_classes)


def batch_multiple() -> int:
    """Rows in a batch must be a multiple of this: the devices that data-parallel training splits each batch
    between (1 on one device), so that no device gets an empty or uneven share."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return int(tf.distribute.get_strategy().num_replicas_in_sync)
    distribution = keras.distribution.distribution()
    return 1 if distribution is None else int(np.prod(distribution.device_mesh.shape))


def process_shard() -> tuple[int, int]:
    """(this process's index, process count) when training spans several processes (JAX multi-worker; each then
    feeds its own rows of every batch), else (0, 1)."""
    if keras.backend.backend() != "jax" or keras.distribution.distribution() is None:
        return 0, 1
    import jax

    return jax.process_index(), jax.process_count()


@contextlib.contextmanager
def without_distribution() -> Iterator[None]:
    """Build or run networks on this process alone, inside a data-parallel distribution."""
    distribution = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(distribution)


class SwapInAverage(keras.callbacks.SwapEMAWeights):
    """Holds the optimizer's moving average of the weights in the network from each epoch's end to the next
    epoch's start, so that validation, callbacks after this one and the saved model all use the average.
    """

    def __init__(self) -> None:
        super().__init__(swap_on_epoch=True)

    @property
    def average_in_model(self) -> bool:
        """Whether the network now holds the average (and the optimizer the trained weights)."""
        return self._ema_weights_in_model

    @average_in_model.setter
    def average_in_model(self, value: bool) -> None:
        self._ema_weights_in_model = value

    def _backend_swap_variables(self, optimizer: keras.optimizers.Optimizer) -> None:
        """Swap by copying values (JAX backend): assigning one variable to another would share a buffer that the
        next JAX step donates, deleting the other variable's value."""
        averages = optimizer._model_variables_moving_average
        for variable, average in zip(optimizer._trainable_variables, averages, strict=True):
            trained = keras.ops.convert_to_numpy(variable)
            variable.assign(keras.ops.convert_to_numpy(average))
            average.assign(trained)

    def _backend_finalize_ema_values(self, optimizer: keras.optimizers.Optimizer) -> None:
        """Copy the average into the optimizer's slots by value, for the same reason."""
        averages = optimizer._model_variables_moving_average
        for variable, average in zip(optimizer._trainable_variables, averages, strict=True):
            average.assign(keras.ops.convert_to_numpy(variable))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Swap the average in; when the fit ends here, keep it (Keras does so only after the last epoch)."""
        super().on_epoch_end(epoch, logs)
        if self.model.stop_training and epoch < self.params["epochs"] - 1:
            self._finalize_ema_values()


class BackboneScaledAdam(keras.optimizers.Adam):
    """Adam whose steps outside the classifier are `backbone_factor` times the classifier's, and zero for the first
    `frozen_steps` steps (the step count is the optimizer's own, so a resumed fit freezes and scales alike)."""

    def __init__(self, classifier: list, backbone_factor: float, frozen_steps: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classifier_ids = frozenset(id(variable) for variable in classifier)
        self._backbone_factor = backbone_factor
        self._frozen_steps = frozen_steps
        self._backbone_indices: frozenset[int] = frozenset()

    def build(self, variables: list) -> None:
        """Make Adam's slots and note which variables are the backbone's."""
        super().build(variables)
        self._backbone_indices = frozenset(
            index for index, variable in enumerate(variables) if id(variable) not in self._classifier_ids
        )

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Adam's step, at the backbone's learning rate for a backbone variable."""
        if self._get_variable_index(variable) in self._backbone_indices:
            frozen = keras.ops.less(self.iterations, self._frozen_steps)
            learning_rate = learning_rate * keras.ops.where(frozen, 0.0, self._backbone_factor)
        super().update_step(gradient, variable, learning_rate)


class Model:
    """A network plus the data contract it was built for (shapes, mapping, version)."""

    preprocessing = "none"  # Name of the text_recognizer.preprocessing function that makes network inputs.
    monitor = ("val_loss", "min")  # Validation metric that picks the best epoch, and whether lower is better.

    def __init__(self, network: str, network_args: dict[str, Any], data_config: dict[str, Any]) -> None:
        self.network_name, self.network_args = network, dict(network_args)
        self.data_config = {key: data_config[key] for key in DATA_KEYS if key in data_config}
        input_shape = tuple(data_config["input_shape"])
        self.network = build_network(network, input_shape, len(data_config["mapping"]), self.network_args)
        self.mapping: list[str] = data_config["mapping"]
        self.best_epoch: int | None = None  # Set by a fit with a run directory.
        self.stopped_at: tuple[int, int] | None = None  # (epoch, batch) where a fit met a non-finite loss.
        self.local_network: keras.Model | None = None  # Predicts when training spans processes (see `predict`).

    @property
    def name(self) -> str:
        """Artifact stem: `<Model>_<Dataset>_<network>`."""
        return f"{type(self).__name__}_{self.data_config['dataset']}_{self.network_name}"

    def loss(self) -> Any:
        """The training loss."""
        return "sparse_categorical_crossentropy"

    def metrics(self) -> list[Any]:
        """Metrics reported during training."""
        return ["accuracy"]

    def format_batch(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Turn a batch of dataset arrays into network inputs and targets."""
        return x, y

    def augment_batch(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Augment a training batch with draws from `rng` (identity unless a model overrides it)."""
        return x, y

    def sequence(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        train: bool = False,
        seed: int = DEFAULT_SEED,
        bucket: bool = True,
    ) -> DatasetSequence:
        """Batches for fit/evaluate; augmentation and shuffling (from `seed`) on training batches only.

        With `bucket`, rows are batched by the model's `sort_key` where it has one.
        """
        augment = self.augment_batch if train else None
        return DatasetSequence(
            x,
            y,
            batch_size,
            shuffle=train,
            augment_fn=augment,
            format_fn=self.format_batch,
            seed=seed,
            sort_key=self.sort_key(x) if bucket else None,
            batch_multiple=batch_multiple(),
            shard=process_shard(),
        )

    def sort_key(self, x: np.ndarray) -> np.ndarray | None:
        """Per-row key that batches group by (None: plain shuffled batches)."""
        return None

    def validation_callbacks(self, x_val: np.ndarray, y_val: np.ndarray) -> list[keras.callbacks.Callback]:
        """Callbacks that add the model's own validation metrics to each epoch's logs (none by default)."""
        return []

    @staticmethod
    def fit_rows(dataset: Dataset, train_args: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """The rows of `dataset.x_train` that a fit with `train_args` trains on and validates on."""
        args = {**DEFAULT_TRAIN_ARGS, **train_args}
        val = dataset.validation_mask()
        train_rows = np.flatnonzero(~val)
        if args["overfit_batches"]:
            overfit_rows = train_rows[: args["overfit_batches"] * args["batch_size"]]
            return overfit_rows, overfit_rows
        return train_rows, np.flatnonzero(val)

    def fit(
        self,
        dataset: Dataset,
        train_args: dict[str, Any],
        callbacks: list | None = None,
        run_dir: Path | None = None,
    ) -> keras.callbacks.History:
        """Compile and fit on the dataset's training split, validating on a held-out part of it.

        With `run_dir`, every epoch leaves a checkpoint there, a run that stopped resumes from its checkpoint, and
        the network ends with the weights of its best epoch by `monitor` (see `best_epoch`). A NaN or infinite
        loss stops the fit at once, keeping the last good checkpoint (see `stopped_at`).
        """
        args = {**DEFAULT_TRAIN_ARGS, **train_args}
        network = self.network
        if args["mixed_bfloat16"]:
            self.network = self._rebuilt("mixed_bfloat16")
        try:
            return self._fit(dataset, args, callbacks, run_dir)
        finally:
            if self.network is not network:
                network.set_weights(self.network.get_weights())
                self.network = network

    def _rebuilt(self, dtype_policy: str = "float32") -> keras.Model:
        """The network built anew (under a Keras dtype policy), holding the current weights."""
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(dtype_policy)
        try:
            input_shape = tuple(self.data_config["input_shape"])
            network = build_network(self.network_name, input_shape, len(self.mapping), self.network_args)
        finally:
            keras.config.set_dtype_policy(previous)
        network.set_weights(self.network.get_weights())
        return network

    def _fit(
        self, dataset: Dataset, args: dict[str, Any], callbacks: list | None, run_dir: Path | None
    ) -> keras.callbacks.History:
        train_rows, val_rows = self.fit_rows(dataset, args)
        x_val, y_val = dataset.x_train[val_rows], dataset.y_train[val_rows]
        train = not args["overfit_batches"]  # Overfitting trains on fixed, unaugmented batches.
        x_train, y_train = dataset.x_train[train_rows], dataset.y_train[train_rows]
        train_seq = self.sequence(
            x_train, y_train, args["batch_size"], train=train, seed=args["seed"], bucket=args["bucket_widths"]
        )
        val_seq = self.sequence(x_val, y_val, args["batch_size"])
        ema = SwapInAverage() if args["ema_momentum"] is not None else None
        self.network.compile(optimizer=self.optimizer(args, len(train_seq)), loss=self.loss(), metrics=self.metrics())
        stop = StopOnNonFiniteLoss()
        callbacks = [*([ema] if ema else []), *self.validation_callbacks(x_val, y_val), *(callbacks or []), stop]
        early_stopping = None
        if args["early_stopping"]:  # First, so that the average is swapped in for good when it stops the fit.
            early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0.01, patience=3)
            callbacks.insert(0, early_stopping)
        checkpoint, initial_epoch = None, 0
        if run_dir is not None:
            checkpoint = EpochCheckpoint(run_dir, *self.monitor, ema=ema, early_stopping=early_stopping)
            initial_epoch = checkpoint.restore(self.network)
            train_seq.start_at(initial_epoch)
            callbacks.insert(-1, checkpoint)  # After every callback that adds to the epoch's logs.
        history = self.network.fit(
            train_seq,
            steps_per_epoch=len(train_seq),
            shuffle=False,  # The sequence shuffles, by seed and epoch.
            validation_data=val_seq,
            epochs=args["epochs"],
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=2,
        )
        self.stopped_at = stop.stopped_at
        if checkpoint is not None:
            checkpoint.load_best(self.network)
            self.best_epoch = checkpoint.best_epoch
        return history

    def optimizer(self, args: dict[str, Any], steps_per_epoch: int) -> keras.optimizers.Optimizer:
        """Adam with the train args' learning rate (cosine-decayed with `lr_decay`), clipping, averaging, and the
        backbone's own learning rate or frozen epochs."""
        learning_rate = args["learning_rate"]
        if args["lr_decay"]:
            steps = args["epochs"] * steps_per_epoch
            learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=LR_DECAY_FLOOR)
        ema = args["ema_momentum"] is not None
        kwargs = {
            "global_clipnorm": args["clip_norm"],
            **({"use_ema": True, "ema_momentum": args["ema_momentum"]} if ema else {}),
        }
        if args["backbone_lr_factor"] == 1 and not args["freeze_epochs"]:
            return keras.optimizers.Adam(learning_rate, **kwargs)
        classifier = self.network.layers[-1].trainable_weights
        if not classifier:
            raise ValueError(
                f"backbone_lr_factor and freeze_epochs need a classifier as the network's last layer; "
                f"{self.network_name}'s last layer ({self.network.layers[-1].name}) has no weights"
            )
        frozen_steps = round(args["freeze_epochs"] * steps_per_epoch)
        return BackboneScaledAdam(classifier, args["backbone_lr_factor"], frozen_steps, learning_rate, **kwargs)

    def predict(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """The network's outputs for every row of `x`, in batches that data-parallel devices split evenly."""
        if process_shard()[1] > 1:  # Outputs that span processes cannot be read back: predict here, on one device.
            with without_distribution():
                return self._local_network().predict(x.astype(np.float32), batch_size=batch_size, verbose=0)
        multiple = batch_multiple()
        pad = -len(x) % multiple
        padded = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)]) if pad else x
        batch_size = batch_size + -batch_size % multiple
        outputs = self.network.predict(padded.astype(np.float32), batch_size=batch_size, verbose=0)[: len(x)]
        return outputs.astype(np.float32)  # Networks that compute in bfloat16 (`mixed_bfloat16`) give bfloat16.

    def _local_network(self) -> keras.Model:
        """A copy of the network, built outside the data-parallel distribution, holding the current weights."""
        if self.local_network is None:
            self.local_network = self._rebuilt()
        else:
            self.local_network.set_weights(self.network.get_weights())
        return self.local_network

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> dict[str, float]:
        """Metrics on held-out data."""
        raise NotImplementedError

    def artifact(self) -> dict[str, Any]:
        """Everything needed to rebuild and use the model, without the weights."""
        return {
            "model": type(self).__name__,
            "network": self.network_name,
            "network_args": self.network_args,
            **self.data_config,
            "preprocessing": self.preprocessing,
            "keras_version": keras.__version__,
        }

    def save(self, extra: dict[str, Any], weights_dir: Path) -> Path:
        """Write `<name>.weights.h5`, `<name>.onnx` (on TensorFlow) and `<name>.json` atomically into `weights_dir`
        (a run directory; shipped weights are staged from runs by `update_model_with_best_experiment.py`); return the
        JSON's path."""
        weights_dir.mkdir(parents=True, exist_ok=True)
        stem = weights_dir / self.name
        tmp_weights = weights_dir / f".{self.name}.{os.getpid()}.tmp.weights.h5"
        try:
            self._rebuilt().save_weights(tmp_weights)  # A fresh copy: the weights alone, without optimizer state.
            os.replace(tmp_weights, f"{stem}.weights.h5")
        finally:
            tmp_weights.unlink(missing_ok=True)
        if keras.backend.backend() == "tensorflow":
            self.export_onnx(Path(f"{stem}.onnx"))
        else:  # Keras exports ONNX through TensorFlow.
            print(f"No ONNX export on {keras.backend.backend()}: run python -m text_recognizer.export_onnx {stem}.json")
        saved = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        with atomic_path(Path(f"{stem}.json")) as tmp:
            tmp.write_text(json.dumps({**self.artifact(), **extra, "saved": saved}, indent=2) + "\n")
        return Path(f"{stem}.json")

    def export_onnx(self, path: Path) -> None:
        """Write the network as ONNX (any batch size; lines of any width), atomically."""
        height, *rest = self.data_config["input_shape"]
        self.network.predict_on_batch(np.zeros((1, height, *rest), dtype=np.float32))  # Export needs a built graph.
        with atomic_path(path) as tmp:
            self.network.export(str(tmp), format="onnx", verbose=False)
            _fuse_exact_gelu(tmp)

    @classmethod
    def load(cls, json_path: Path) -> Model:
        """Rebuild a saved model from its JSON and weights."""
        config = json.loads(Path(json_path).read_text())
        model = cls(config["network"], config["network_args"], config)
        model.network.load_weights(weights_path(json_path))
        return model
