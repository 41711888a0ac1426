from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from text_recognizer.datasets.line_folder_dataset import LineFolderDataset
from text_recognizer.line_codec import LINE_HEIGHT, LINE_WIDTH, decode


def write_lines(directory: Path, texts: list[str]) -> None:
    """Each text drawn dark on light paper, as `<text>.png`."""
    directory.mkdir(parents=True, exist_ok=True)
    for text in texts:
        image = Image.new("L", (12 * len(text) + 20, 40), 235)
        ImageDraw.Draw(image).text((10, 12), text, fill=20)
        image.save(directory / f"{text}.png")


TEXTS = [f"line {i:02d} of mine" for i in range(25)]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path / "data"))
    write_lines(tmp_path / "lines", TEXTS)
    return tmp_path / "lines"


def test_folder_lines_are_labelled_by_name_and_split(folder):
    dataset = LineFolderDataset(str(folder))
    dataset.load_or_generate_data()
    assert dataset.x_train.shape == (20, LINE_HEIGHT, LINE_WIDTH)
    assert dataset.x_test.shape == (5, LINE_HEIGHT, LINE_WIDTH)
    assert sorted(decode(y) for y in [*dataset.y_train, *dataset.y_test]) == TEXTS
    assert dataset.x_train.dtype == np.uint8
    assert dataset.x_train[:, :, -10:].max() == 0 and dataset.x_train.max() > 200  # White ink on black, left-aligned.


def test_the_cache_follows_changes_to_the_folder(folder):
    first = LineFolderDataset(str(folder))
    first.load_or_generate_data()
    write_lines(folder, ["one more line"])
    second = LineFolderDataset(str(folder))
    second.load_or_generate_data()
    assert first.data_version != second.data_version
    assert len(second.x_train) + len(second.x_test) == len(TEXTS) + 1


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (["too few"], "has 1 line images; training needs at least 20"),
        ([*TEXTS, "naïve"], "Rename or remove 1 line images: naïve.png: Cannot encode 'naïve': unknown characters"),
        ([*TEXTS, "x" * 81], "longer than 80"),
    ],
)
def test_bad_folders_are_explained(tmp_path, monkeypatch, texts, message):
    monkeypatch.setenv("TEXT_RECOGNIZER_DATA", str(tmp_path / "data"))
    write_lines(tmp_path / "lines", texts)
    with pytest.raises(ValueError, match=message):
        LineFolderDataset(str(tmp_path / "lines")).load_or_generate_data()


def test_missing_empty_and_corrupt_folders_are_explained(folder, tmp_path):
    with pytest.raises(ValueError, match="No folder at"):
        LineFolderDataset(str(tmp_path / "nowhere")).load_or_generate_data()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No .png/.jpg/.jpeg images in"):
        LineFolderDataset(str(tmp_path / "empty")).load_or_generate_data()
    (folder / "not an image.png").write_bytes(b"GIF89a broken")
    with pytest.raises(ValueError, match="Cannot read .*not an image.png as an image"):
        LineFolderDataset(str(folder)).load_or_generate_data()
    with pytest.raises(ValueError, match="test_fraction must be between 0 and 1, got 1"):
        LineFolderDataset(str(folder), test_fraction=1)
