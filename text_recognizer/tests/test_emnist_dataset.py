import io
import zipfile

import numpy as np
import pytest
from scipy.io import savemat

from text_recognizer.datasets.emnist_dataset import EmnistDataset, stratified_subsample
from text_recognizer.line_codec import MAPPING


def fabricated_emnist_zip(labels_by_split: dict[str, list[int]]) -> bytes:
    """A matlab.zip in NIST's layout whose images show their label as a bar at that column."""
    splits = {}
    for split, labels in labels_by_split.items():
        images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i, 2:10, label] = 255  # A short vertical bar: orientation matters.
        stored = images.swapaxes(1, 2).reshape(len(labels), 784)  # NIST stores images column-major.
        splits[split] = {"images": stored, "labels": np.array(labels, dtype=np.uint8).reshape(-1, 1)}
    mat = io.BytesIO()
    savemat(mat, {"dataset": {**splits, "mapping": np.arange(62).reshape(-1, 1)}})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("matlab/emnist-byclass.mat", mat.getvalue())
    return archive.getvalue()


@pytest.fixture
def emnist_server(file_server, serve_raw, data_root):
    body = fabricated_emnist_zip({"train": [0] * 6 + [1] * 2 + [2] * 4, "test": [0, 1, 1, 2]})
    serve_raw("emnist", "matlab.zip", body)
    return file_server


def test_real_emnist_downloads_transposes_and_balances(emnist_server, data_root):
    ds = EmnistDataset(source="real")
    ds.load_or_generate_data()
    assert ds.x_train.shape == (12, 28, 28) and ds.x_train.dtype == np.uint8
    assert np.bincount(ds.y_train).tolist() == [4, 4, 4]
    for image, label in zip(ds.x_train, ds.y_train, strict=True):
        assert image[2:10, label].min() == 255 and image.sum() == 255 * 8  # Upright, not transposed.
    assert ds.data_version.startswith("emnist-byclass-")
    assert (data_root / "processed" / "emnist" / "byclass.h5").exists()


def test_auto_source_uses_downloaded_data_and_cache(emnist_server, data_root):
    EmnistDataset(source="real").load_or_generate_data()
    ds = EmnistDataset()  # "auto" now finds the processed real data.
    ds.load_or_generate_data()
    assert ds.source == "real" and emnist_server.hits["/matlab.zip"] == 1


def test_mapping_is_the_fsdl_80_classes():
    assert len(MAPPING) == 80
    assert MAPPING[:10] == list("0123456789") and MAPPING[10] == "A" and MAPPING[36] == "a"
    assert MAPPING[62] == " " and MAPPING[78] == "?" and MAPPING[79] == "_"


def test_synthetic_is_balanced_deterministic_and_cached(data_root):
    first = EmnistDataset(source="synthetic", samples_per_class=6, seed=3)
    first.load_or_generate_data()
    assert first.x_train.shape == (62 * 6, 28, 28) and first.x_test.shape == (62, 28, 28)
    assert set(np.bincount(first.y_train).tolist()) == {6}
    assert first.x_train.max() > 100 and first.x_train[:, 0, :].mean() < 30  # White ink on a dark background.
    cache = next((data_root / "processed" / "emnist_synthetic").glob("*.h5"))
    cache.unlink()
    again = EmnistDataset(source="synthetic", samples_per_class=6, seed=3)
    again.load_or_generate_data()
    assert np.array_equal(first.x_train, again.x_train)


def test_subsample_keeps_every_class():
    labels = np.repeat(np.arange(62), 10)  # Class-ordered, like the raw data.
    keep = stratified_subsample(labels, 0.2, seed=0)
    assert np.bincount(labels[keep]).tolist() == [2] * 62


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"source": "scanner"}, "auto, real, synthetic"), ({"subsample_fraction": 1.5}, "subsample_fraction")],
)
def test_bad_arguments_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EmnistDataset(**kwargs)
