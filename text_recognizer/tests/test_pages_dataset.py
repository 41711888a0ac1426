import logging

import numpy as np
import pytest

from text_recognizer.datasets.handwriting import find_fonts
from text_recognizer.datasets.iam_paragraphs_dataset import MARGIN, IamParagraphsDataset
from text_recognizer.datasets.pages_dataset import MixedPagesDataset, PageXmlPagesDataset, SyntheticPagesDataset
from text_recognizer.datasets.synthetic_pages import render_page
from text_recognizer.line_maps import DETECTION_SIZE, detection_scale
from text_recognizer.line_regions import match_lines
from text_recognizer.models.line_detector_model import line_polygons
from text_recognizer.tests.test_iam import TEXTS as IAM_TEXTS
from text_recognizer.tests.test_iam import iam_server  # noqa: F401 (a fixture)
from text_recognizer.tests.test_page_xml import write_pages


def found_lines(maps: np.ndarray) -> list[np.ndarray]:
    return line_polygons(maps.astype(np.float32))


def test_a_synthetic_page_outlines_every_line_inside_the_page():
    texts = ["A first line of text", "and the second", "then 3 more words."]
    page, polygons = render_page(texts, find_fonts(), np.random.default_rng(1))
    assert page.dtype == np.uint8 and page.ndim == 2 and len(polygons) == 3
    height, width = page.shape
    for polygon in polygons:
        assert polygon[:, 0].min() >= -1 and polygon[:, 0].max() <= width + 1
        assert polygon[:, 1].min() >= -1 and polygon[:, 1].max() <= height + 1
    tops = [polygon[:, 1].mean() for polygon in polygons]
    assert tops == sorted(tops)


def test_synthetic_pages_map_every_line_and_validate_on_a_tenth(data_root):
    dataset = SyntheticPagesDataset(num_train=10, num_test=3)
    dataset.load_or_generate_data()
    assert dataset.x_train.shape == (10, DETECTION_SIZE, DETECTION_SIZE) and dataset.y_test.shape[-1] == 2
    assert dataset.validation_mask().sum() == 1
    pages = dataset.pages("test")
    for maps, page in zip(dataset.y_test, pages, strict=True):
        scale = detection_scale(page.image.shape)
        true = [polygon * scale for polygon in page.polygons]
        assert match_lines(found_lines(maps), true) == len(page.texts)


def test_page_xml_pages_map_their_lines_at_any_image_scale(data_root, tmp_path):
    write_pages(tmp_path / "pages")  # Six lines a page; odd pages' images are twice the XML's size.
    dataset = PageXmlPagesDataset(str(tmp_path / "pages"), 0.34, 0.34, group_pattern=r"^w\d")
    dataset.load_or_generate_data()
    assert len(dataset.x_train) == 4 and len(dataset.x_test) == 2 and dataset.validation_mask().sum() == 2
    assert all(len(found_lines(maps)) == 6 for maps in [*dataset.y_train, *dataset.y_test])
    np.testing.assert_array_equal(dataset.y_test[0], dataset.y_test[1])  # The same page at 1× and 2×.
    assert np.abs(dataset.x_test[0].astype(int) - dataset.x_test[1]).mean() < 10


def test_mixed_pages_without_collections_say_so_and_use_synthetic_pages(data_root, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = MixedPagesDataset(synthetic_train=4, synthetic_test=2)
    dataset.load_or_generate_data()
    assert "hooker" in caplog.text and "copiste" in caplog.text
    assert len(dataset.x_train) == 4 and len(dataset.x_test) == 2 and "attribution" not in dataset.config()
    with pytest.raises(ValueError, match="valid: hooker, copiste"):
        MixedPagesDataset(collections=["iam"])


def test_iam_paragraphs_crop_the_handwriting_with_a_margin_and_split_by_writer(iam_server):  # noqa: F811
    dataset = IamParagraphsDataset()
    dataset.load_or_generate_data()
    assert len(dataset.x_train) == 1 and len(dataset.x_test) == 1
    (page,) = dataset.pages("test")
    assert page.texts == IAM_TEXTS
    # Word boxes span x 100-900 and y 100-900 of the full-size form, the JPEG is half size: 50-450 at half size.
    assert page.image.shape == (450 + MARGIN - 0 + 1, 450 + MARGIN + 1)
    assert page.polygons[0][0].tolist() == [MARGIN, MARGIN]
    assert all(len(found_lines(maps)) == len(IAM_TEXTS) for maps in [*dataset.y_train, *dataset.y_test])
