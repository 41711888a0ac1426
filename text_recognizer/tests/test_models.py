import json

import h5py
import keras
import numpy as np
import onnxruntime
import pytest

from text_recognizer.datasets.dataset import random_validation_mask
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.models import CharacterModel
from text_recognizer.models.base import SwapInAverage


@pytest.fixture(scope="module")
def characters(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path_factory.mktemp("data")))
        ds = EmnistDataset(source="synthetic", samples_per_class=2, seed=1)
        ds.load_or_generate_data()
    return ds


@pytest.mark.parametrize("network", ["mlp", "lenet"])
def test_character_model_overfits_one_batch(characters, network):
    model = CharacterModel(network, {"dropout_amount": 0.0}, characters.config())
    args = {"overfit_batches": 1, "batch_size": 32, "epochs": 60, "learning_rate": 3e-3}
    model.fit(characters, {**args, "early_stopping": False})
    rows, validation_rows = model.fit_rows(characters, args)
    assert np.array_equal(rows, validation_rows) and len(rows) == 32
    assert model.evaluate(characters.x_train[rows], characters.y_train[rows])["accuracy"] == 1.0


def test_fit_save_and_load_round_trip(characters, tmp_path):
    model = CharacterModel("lenet", {}, {**characters.config(), "dataset_args": {"samples_per_class": 2}})
    history = model.fit(characters, {"epochs": 1, "batch_size": 32})
    assert len(history.epoch) == 1 and np.isfinite(history.history["val_loss"]).all()
    path = model.save({"metrics": {"test_accuracy": 0.5}, "command": "test"}, weights_dir=tmp_path)
    assert path.name == "CharacterModel_EmnistDataset_lenet.json"
    stem = "CharacterModel_EmnistDataset_lenet"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name, f"{stem}.onnx", f"{stem}.weights.h5"]
    saved = json.loads(path.read_text())
    assert saved["preprocessing"] == "character_input" and saved["metrics"] == {"test_accuracy": 0.5}
    assert path.stat().st_mode & 0o644 == 0o644
    with h5py.File(tmp_path / f"{stem}.weights.h5") as saved_weights:
        assert "optimizer" not in saved_weights  # The fitted network's Adam state is not shipped.
    loaded = CharacterModel.load(path)
    x = characters.x_test[:8].astype(np.float32)
    assert np.allclose(model.network.predict_on_batch(x), loaded.network.predict_on_batch(x), atol=1e-6)
    assert loaded.mapping == characters.mapping
    session = onnxruntime.InferenceSession(str(tmp_path / f"{stem}.onnx"))
    onnx_probs = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.allclose(onnx_probs, loaded.network.predict_on_batch(x), atol=1e-5)
    assert loaded.data_config["dataset_args"] == {"samples_per_class": 2}


def _weights(network: keras.Model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w).copy() for w in network.trainable_weights]


def _moving_average(steps: list[list[np.ndarray]], momentum: float) -> list[np.ndarray]:
    average = steps[0]  # The average starts at the weights after the first step.
    for weights in steps[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights, strict=True)]
    return average


def test_ema_momentum_validates_and_saves_the_moving_average(characters):
    model = CharacterModel("mlp", {}, characters.config())
    steps: list[list[np.ndarray]] = []
    at_epoch_end: list[list[np.ndarray]] = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda *_, **__: steps.append(_weights(model.network)),
        on_epoch_end=lambda *_, **__: at_epoch_end.append(_weights(model.network)),
    )
    train_args = {"epochs": 2, "batch_size": 32, "ema_momentum": 0.9, "early_stopping": False}
    history = model.fit(characters, train_args, [record])
    final = _weights(model.network)
    assert all(np.allclose(f, a, atol=1e-5) for f, a in zip(final, _moving_average(steps, 0.9), strict=True))
    first_epoch = steps[: len(steps) // 2]  # Callbacks (the CER) see the average at each epoch's end.
    first_average = _moving_average(first_epoch, 0.9)
    assert all(np.allclose(e, a, atol=1e-5) for e, a in zip(at_epoch_end[0], first_average, strict=True))
    assert not all(np.allclose(f, w, atol=1e-5) for f, w in zip(final, steps[-1], strict=True))
    val = random_validation_mask(len(characters.x_train))
    val_loss = model.network.evaluate(model.sequence(characters.x_train[val], characters.y_train[val], 32), verbose=0)
    assert np.isclose(history.history["val_loss"][-1], val_loss[0], rtol=1e-4)  # Validated on the average.


def test_a_fit_stopped_early_keeps_the_moving_average(characters):
    model = CharacterModel("mlp", {}, characters.config())
    model.network.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.9), loss=model.loss())
    steps: list[list[np.ndarray]] = []
    stop = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_, **__: setattr(model.network, "stop_training", True))
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *_, **__: steps.append(_weights(model.network)))
    batches = model.sequence(characters.x_train, characters.y_train, 32)
    model.network.fit(batches, epochs=3, callbacks=[stop, SwapInAverage(), record], verbose=0)
    final = _weights(model.network)
    assert len(steps) == len(batches) > 1  # One epoch.
    assert all(np.allclose(f, a, atol=1e-5) for f, a in zip(final, _moving_average(steps, 0.9), strict=True))


def _one_step(characters, initial: list[np.ndarray], **train_args) -> list[np.ndarray]:
    """The change one Adam step of `Model.fit` makes to each trainable weight, from `initial`."""
    model = CharacterModel("mlp", {"dropout_amount": 0.0}, characters.config())
    model.network.set_weights(initial)
    args = {"epochs": 1, "batch_size": 32, "overfit_batches": 1, "early_stopping": False, "learning_rate": 1e-3}
    model.fit(characters, {**args, **train_args})
    return [after - before for after, before in zip(_weights(model.network), initial, strict=True)]


def test_backbone_lr_factor_scales_every_step_but_the_classifiers(characters):
    initial = CharacterModel("mlp", {"dropout_amount": 0.0}, characters.config()).network.get_weights()
    plain = _one_step(characters, initial)
    scaled = _one_step(characters, initial, backbone_lr_factor=0.25)
    *backbone, kernel, bias = zip(plain, scaled, strict=True)  # The classifier: the last layer's kernel and bias.
    assert all(np.allclose(s, 0.25 * p, atol=1e-7) and np.abs(p).max() > 1e-4 for p, s in backbone)
    assert all(np.allclose(s, p, atol=1e-7) and np.abs(p).max() > 1e-4 for p, s in (kernel, bias))


def test_freeze_epochs_train_only_the_classifier_first(characters):
    model = CharacterModel("mlp", {"dropout_amount": 0.0}, characters.config())
    at_epoch_end: list[list[np.ndarray]] = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_, **__: at_epoch_end.append(_weights(model.network)))
    initial = _weights(model.network)
    args = {"epochs": 2, "batch_size": 32, "overfit_batches": 2, "early_stopping": False, "freeze_epochs": 1}
    model.fit(characters, args, [record])
    frozen, trained = at_epoch_end
    assert all(np.array_equal(f, i) for f, i in zip(frozen[:-2], initial[:-2], strict=True))
    assert not any(np.array_equal(f, i) for f, i in zip(frozen[-2:], initial[-2:], strict=True))
    assert not any(np.array_equal(t, f) for t, f in zip(trained[:-2], frozen[:-2], strict=True))


def test_backbone_arguments_need_a_classifier_as_the_last_layer(characters):
    model = CharacterModel("mlp", {}, characters.config())
    layers = keras.layers
    model.network = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(80), layers.Softmax()])
    with pytest.raises(ValueError, match="need a classifier as the network's last layer"):
        model.fit(characters, {"epochs": 1, "freeze_epochs": 1})


def test_mixed_bfloat16_trains_in_bfloat16_and_keeps_what_it_learnt_in_float32(characters):
    model = CharacterModel("lenet", {"dropout_amount": 0.0}, characters.config())
    policies: list[str] = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda *_, **__: policies.append(model.network.dtype_policy.name)
    )
    args = {"overfit_batches": 1, "batch_size": 32, "epochs": 60, "learning_rate": 3e-3, "early_stopping": False}
    model.fit(characters, {**args, "mixed_bfloat16": True}, [record])
    assert set(policies) == {"mixed_bfloat16"} and model.network.dtype_policy.name == "float32"
    rows = model.fit_rows(characters, args)[0]
    assert model.evaluate(characters.x_train[rows], characters.y_train[rows])["accuracy"] == 1.0
