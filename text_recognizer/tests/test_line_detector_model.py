import json

import keras
import numpy as np
import onnxruntime

from text_recognizer.datasets.pages_dataset import PageXmlPagesDataset
from text_recognizer.models import LineDetectorModel, load_model
from text_recognizer.tests.test_page_xml import write_pages

SMALL = {"filters": [4, 8, 16]}  # A U-Net small enough to fit a few pages in seconds.


def pages(tmp_path) -> PageXmlPagesDataset:
    write_pages(tmp_path / "pages", pages=4)  # Six lines a page.
    dataset = PageXmlPagesDataset(str(tmp_path / "pages"), test_fraction=0.0, validation_fraction=0.25)
    dataset.load_or_generate_data()
    return dataset


def test_detector_learns_the_lines_of_its_pages_through_fit(data_root, tmp_path):
    dataset = pages(tmp_path)
    assert len(dataset.x_train) == 4 and dataset.validation_mask().sum() == 1
    keras.utils.set_random_seed(0)  # The initial weights, as run_experiment draws them.
    model = LineDetectorModel("line_detector_unet", SMALL, dataset.config())
    history = model.fit(dataset, {"epochs": 40, "batch_size": 4, "learning_rate": 0.01, "early_stopping": False})
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    scores = model.evaluate(dataset.x_train, dataset.y_train)  # The pages it was fitted to, and the one validating.
    print(scores)
    assert scores["line_count_exact"] == 1.0  # Six lines found on every page.


def test_detector_saves_loads_and_exports_onnx_that_agrees(data_root, tmp_path):
    dataset = pages(tmp_path)
    model = LineDetectorModel("fcn", {"filters": 4}, dataset.config())
    path = model.save({"command": "test"}, weights_dir=tmp_path / "weights")
    assert json.loads(path.read_text())["preprocessing"] == "detection_input"
    loaded = load_model(path)
    x = dataset.x_train[:1, ..., None].astype(np.float32)
    session = onnxruntime.InferenceSession(str(path.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    onnx_maps = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(onnx_maps, loaded.predict_maps(dataset.x_train[:1]), atol=1e-4)
    assert onnx_maps.shape == (1, 512, 512, 2)
