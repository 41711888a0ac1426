from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from text_recognizer.character_predictor import CharacterPredictor

SUPPORT = Path(__file__).parent / "support" / "characters"
IMAGES = sorted(SUPPORT.glob("*/*.png"))


@pytest.fixture(scope="module")
def predictor():
    return CharacterPredictor()


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_reads_support_image_exactly(predictor, path):
    char, confidence = predictor.predict(path)
    assert char == path.stem
    assert confidence > 0.7


def test_reads_the_real_emnist_references(predictor, shared):
    images = sorted((shared("reference-samples") / "emnist").glob("*.png"))  # Real EMNIST characters: 8, U, e.
    assert [predictor.predict(path)[0] for path in images] == [path.stem for path in images] and images


def test_same_answer_for_path_pil_array_and_inverted_array(predictor):
    path = SUPPORT / "paper" / "G.png"
    array = np.asarray(Image.open(path).convert("L"))
    answers = {predictor.predict(x)[0] for x in (path, Image.open(path), array, 255 - array, array / 255.0)}
    assert answers == {"G"}


def test_scaled_up_image_reads_the_same(predictor):
    image = Image.open(SUPPORT / "paper" / "R.png")
    assert predictor.predict(image.resize((image.width * 4, image.height * 4)))[0] == "R"


def test_bad_input_is_explained(predictor):
    with pytest.raises(ValueError, match="shape"):
        predictor.predict(np.zeros((3, 3, 7)))
