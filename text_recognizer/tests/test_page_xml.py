import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from text_recognizer.datasets.page_xml import LINE_ASCENT, LINE_DESCENT, parse_page_file, to_page_xml
from text_recognizer.datasets.page_xml_dataset import LINE_WIDTH, PageXmlDataset, fold_text, split_groups
from text_recognizer.line_codec import LINE_HEIGHT, decode
from text_recognizer.preprocessing import cut_line, ink_widths, open_image
from text_recognizer.tests.pages import (
    HEIGHT,
    LINE_PITCH,
    WIDTH,
    alto_xml,
    line_box,
    page_image,
    page_xml,
    polygon,
)

TEXTS = ["Dear Sir,", "", "the [?] word", "l’été « chaud »", "x ~ y", "ok then"]


def test_page_xml_lines_come_in_reading_order_with_polygon_baseline_and_their_own_text():
    page = parse_page_file(page_xml(["first", "second", "third"], "p.jpg", order=[2, 0, 1]), "p.xml")
    assert [line.text for line in page.lines] == ["first", "second", "third"]
    assert page.image_name == "p.jpg" and page.size == (WIDTH, HEIGHT)
    x0, y0, x1, y1 = line_box(1)
    np.testing.assert_array_equal(page.lines[1].polygon.min(axis=0), [x0 - 8, y0 - 8])
    np.testing.assert_array_equal(page.lines[1].baseline, [[x0, y1], [x1, y1]])


def test_a_strip_along_the_baseline_is_cut_as_the_whole_line():
    texts = ["a", "b", "c", "d", "e"]
    image = np.asarray(open_image(io.BytesIO(page_image(len(texts)))).convert("L"))
    page = parse_page_file(page_xml(texts, "p.jpg", strips=frozenset({1, 3})), "p.xml")
    x0, y0, x1, y1 = line_box(1)
    np.testing.assert_array_equal(page.lines[1].polygon.min(axis=0), [x0, y1 - LINE_ASCENT * LINE_PITCH])
    np.testing.assert_array_equal(page.lines[1].polygon.max(axis=0), [x1, y1 + LINE_DESCENT * LINE_PITCH])
    for k, line in enumerate(page.lines):
        inked_rows = (cut_line(image, line.polygon) < 128).any(axis=1).sum()
        assert abs(inked_rows - (y1 - y0)) <= 2, k  # Every line's strokes, whole, where a strip holds 9 rows.
    np.testing.assert_array_equal(page.lines[0].polygon, polygon(0))  # Outlines of the ink are kept as drawn.


def test_alto_lines_join_strings_with_spaces_and_fall_back_to_their_box():
    page = parse_page_file(alto_xml(["two words", "one"], "scan.png"), "scan.xml")
    assert [line.text for line in page.lines] == ["two words", "one"]
    assert page.image_name == "scan.png" and page.size == (WIDTH, HEIGHT)
    assert page.lines[0].polygon.shape == (4, 2) and page.lines[0].baseline is None  # v2 gives a single number.


def test_bad_page_files_are_refused_with_the_file_named():
    with pytest.raises(ValueError, match="broken.xml is not a readable XML file"):
        parse_page_file(b"<PcGts><Page>", "broken.xml")
    with pytest.raises(ValueError, match="neither PAGE XML .* nor ALTO .*; its root is <html>"):
        parse_page_file(b"<html/>", "other.xml")
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><PcGts>&b;</PcGts>'
    with pytest.raises(ValueError, match="not a readable XML file"):
        parse_page_file(bomb, "bomb.xml")  # Entities (billion laughs) are refused.


def test_cut_line_paints_what_lies_outside_the_polygon_as_paper():
    page = np.full((100, 100), 220, dtype=np.uint8)
    page[10:30, 10:30] = 0  # This line's ink, inside the triangle.
    page[60:90, 60:90] = 0  # A neighbour's ink, inside the triangle's box but outside the triangle.
    cut = cut_line(page, np.array([[0.0, 0.0], [99.0, 0.0], [0.0, 99.0]]))
    assert cut.shape == (100, 100)
    assert (cut[10:30, 10:30] == 0).all() and (cut[60:90, 60:90] == 220).all()


def test_fold_text_keeps_the_letters_without_their_accents():
    assert fold_text("  Émile  l’œuvre « ça »—Façade…  ") == 'Emile l\'oeuvre " ca "-Facade...'


def test_split_groups_is_deterministic_and_keeps_each_group_whole():
    groups = [f"text{i}" for i in range(40)]
    splits = split_groups(groups, 0.1, 0.1)
    assert splits == split_groups(list(reversed(groups)), 0.1, 0.1)
    assert sorted(splits.values()).count("test") == 4 and sorted(splits.values()).count("validation") == 4
    assert split_groups(groups[:2], 0.1, 0.1) == {"text0": "train", "text1": "train"}  # Too few to hold out.


def write_pages(folder: Path, pages: int = 6) -> None:
    """`pages` pages of the TEXTS, alternately PAGE XML and ALTO; the odd pages' images are twice the XML's size."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(pages):
        (folder / f"w{i // 2}_p{i}.jpg").write_bytes(page_image(len(TEXTS), scale=2.0 if i % 2 else 1.0))
        xml = page_xml(TEXTS, f"w{i // 2}_p{i}.jpg") if i % 2 else alto_xml(TEXTS, f"w{i // 2}_p{i}.jpg")
        (folder / f"w{i // 2}_p{i}.xml").write_bytes(xml)


def test_page_dataset_cuts_folds_skips_and_counts(data_root, tmp_path):
    write_pages(tmp_path / "pages")
    dataset = PageXmlDataset(
        str(tmp_path / "pages"), test_fraction=0.34, validation_fraction=0.34, group_pattern=r"^w\d"
    )
    dataset.load_or_generate_data()
    assert dataset.counts == {
        "kept": 12, "folded": 6, "empty": 6, "editorial markup": 6, "characters outside the mapping": 6,
        "train lines": 6, "validation lines": 6, "test lines": 6, "pages": 6,
    }  # fmt: skip
    texts = [decode(y) for y in dataset.y_test]
    assert texts == ["Dear Sir,", 'l\'ete " chaud "', "ok then"] * 2
    assert dataset.x_train.shape == (12, LINE_HEIGHT, LINE_WIDTH) and dataset.validation_mask().sum() == 6
    # Lines get wider down the page (line_box); at twice the XML's size the image still cuts the same lines.
    widths = ink_widths(dataset.x_test)
    assert widths[0] < widths[1] < widths[2] and abs(int(widths[0]) - int(widths[3])) <= 8
    assert dataset.config()["dataset"] == "PageXmlDataset" and "attribution" not in dataset.config()


def test_page_dataset_reads_a_zip_and_its_cache_follows_the_files(data_root, tmp_path):
    write_pages(tmp_path / "pages", pages=3)
    archive = tmp_path / "pages.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "pages").iterdir()):
            zf.write(path, f"export/{path.name}")
    from_zip, from_folder = PageXmlDataset(str(archive)), PageXmlDataset(str(tmp_path / "pages"))
    from_zip.load_or_generate_data()
    from_folder.load_or_generate_data()
    np.testing.assert_array_equal(np.sort(from_zip.y_train, axis=0), np.sort(from_folder.y_train, axis=0))
    version = from_folder.data_version
    (tmp_path / "pages" / "w0_p0.xml").write_bytes(alto_xml(["changed"] * len(TEXTS), "w0_p0.jpg"))
    changed = PageXmlDataset(str(tmp_path / "pages"))
    changed.load_or_generate_data()
    assert changed.data_version != version


def test_page_dataset_errors_say_what_is_wrong(data_root, tmp_path):
    with pytest.raises(ValueError, match="neither a folder nor a zip archive"):
        PageXmlDataset(str(tmp_path / "nothing")).load_or_generate_data()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No PAGE XML or ALTO"):
        PageXmlDataset(str(tmp_path / "empty")).load_or_generate_data()
    (tmp_path / "empty" / "a.xml").write_bytes(page_xml(["hi"], "a.jpg"))
    with pytest.raises(ValueError, match=r"No image for a.xml .*a.jpg"):
        PageXmlDataset(str(tmp_path / "empty")).load_or_generate_data()
    with pytest.raises(ValueError, match="Bad regular expression"):
        PageXmlDataset(str(tmp_path), group_pattern="(")
    with pytest.raises(ValueError, match="sum below 1"):
        PageXmlDataset(str(tmp_path), test_fraction=0.5, validation_fraction=0.5)


def test_written_page_xml_reads_back_as_it_was_written():
    lines = [
        (np.array([[10, 20], [300, 20], [300, 60], [10, 60]], dtype=float), "Ünïcode & <markup>"),
        (np.array([[5, 80], [200, 70], [210, 120]], dtype=float), ""),
    ]
    page = parse_page_file(to_page_xml("scan.png", (400, 300), lines), "scan.xml")
    assert page.image_name == "scan.png" and page.size == (400, 300)
    assert [line.text for line in page.lines] == ["Ünïcode & <markup>", ""]
    assert all(np.array_equal(line.polygon, polygon) for line, (polygon, _) in zip(page.lines, lines, strict=True))
