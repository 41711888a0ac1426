import json

import keras
import numpy as np
import onnxruntime
import pytest

from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.models import CharacterModel


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
    x, y = characters.x_train[::4][:32], characters.y_train[::4][:32]
    model.network.compile(optimizer=keras.optimizers.Adam(3e-3), loss=model.loss())
    model.network.fit(model.sequence(x, y, batch_size=32), epochs=60, verbose=0)
    assert model.evaluate(x, y)["accuracy"] == 1.0


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
    loaded = CharacterModel.load(path)
    x = characters.x_test[:8].astype(np.float32)
    assert np.allclose(model.network.predict_on_batch(x), loaded.network.predict_on_batch(x), atol=1e-6)
    assert loaded.mapping == characters.mapping
    session = onnxruntime.InferenceSession(str(tmp_path / f"{stem}.onnx"))
    onnx_probs = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.allclose(onnx_probs, loaded.network.predict_on_batch(x), atol=1e-5)
    assert loaded.data_config["dataset_args"] == {"samples_per_class": 2}
