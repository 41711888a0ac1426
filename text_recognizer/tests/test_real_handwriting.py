import hashlib
import json
import logging
import re

import numpy as np
import pytest

from text_recognizer.datasets import real_handwriting
from text_recognizer.datasets.dataset import DownloadError
from text_recognizer.datasets.mixed_lines_dataset import MixedLinesDataset
from text_recognizer.datasets.real_handwriting import (
    CopisteLinesDataset,
    HookerLinesDataset,
    PoilusLinesDataset,
    collection_dir,
    download_collection,
    import_collection,
    is_available,
)
from text_recognizer.line_codec import decode
from text_recognizer.tests.pages import page_image, page_xml

TEXTS = ["My dear Dyer", "I have gone into it", "with care."]
LETTERS = ["JDH_1_1_1", "JDH_1_1_2", "JDH_1_2_7"]  # Two pages each: a letter's pages stay in one split.


@pytest.fixture
def hooker_files() -> dict[str, bytes]:
    """A small Hooker collection: two PAGE XML pages for each of three letters."""
    files = {}
    for letter in LETTERS:
        for page in (1, 2):
            name = f"{letter}_00{page}"
            files[f"{name}.jpg"] = page_image(len(TEXTS))
            files[f"{name}.xml"] = page_xml(TEXTS, f"{name}.jpg")
    return files


@pytest.fixture
def served_hooker(file_server, hooker_files, tmp_path, monkeypatch) -> dict[str, bytes]:
    """Serve the small collection on 127.0.0.1 and point the Hooker manifest at it, files in a `repo/` path."""
    entries = []
    for name, body in hooker_files.items():
        file_server.files[f"/repo/{name}"] = body
        entries.append(
            {
                "file": name,
                "url": f"{file_server.url}/repo/{name}",
                "sha256": hashlib.sha256(body).hexdigest(),
                "bytes": len(body),
            }
        )
    raw = tmp_path / "raw" / "hooker"
    raw.mkdir(parents=True)
    (raw / "manifest.json").write_text(json.dumps({"repository": "r", "commit": "c", "files": entries}))
    monkeypatch.setattr(real_handwriting, "raw_dirname", lambda name: tmp_path / "raw" / name)
    return hooker_files


def test_hooker_downloads_every_file_verified_then_resumes(data_root, file_server, served_hooker):
    dataset = HookerLinesDataset(test_fraction=0.34, validation_fraction=0.34)
    dataset.load_or_generate_data()
    for name, body in served_hooker.items():
        assert (collection_dir("hooker") / name).read_bytes() == body
    assert dataset.counts["pages"] == 6 and dataset.counts["test lines"] == 6 and dataset.counts["train lines"] == 6
    assert "RBG Kew" in dataset.config()["attribution"][0]
    (collection_dir("hooker") / "JDH_1_1_1_001.jpg").unlink()  # An interrupted download:
    hits = sum(file_server.hits.values())
    download_collection("hooker")
    assert sum(file_server.hits.values()) == hits + 1  # only the missing file is fetched again.


def test_a_file_that_does_not_match_its_checksum_is_discarded(data_root, file_server, served_hooker):
    file_server.files["/repo/JDH_1_2_7_002.xml"] = b"<tampered/>"
    with pytest.raises(DownloadError, match="Checksum mismatch for JDH_1_2_7_002.xml"):
        download_collection("hooker")
    assert not (collection_dir("hooker") / "JDH_1_2_7_002.xml").exists()
    assert not is_available("hooker")


def test_import_uses_a_local_copy_in_place(data_root, tmp_path, served_hooker, capsys):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name, body in served_hooker.items():
        (copy / name).write_bytes(body)
    import_collection("hooker", copy)
    assert collection_dir("hooker").resolve() == copy.resolve() and is_available("hooker")
    assert "12 files, 0 of them differ from the published originals" in capsys.readouterr().out
    (copy / "JDH_1_1_1_001.xml").unlink()
    with pytest.raises(ValueError, match="lacks 1 files of hooker, e.g. JDH_1_1_1_001.xml"):
        import_collection("hooker", copy)


def test_mixed_lines_join_real_and_as_many_synthetic_lines(data_root, served_hooker, caplog):
    download_collection("hooker")
    with caplog.at_level(logging.WARNING):
        mix = MixedLinesDataset(collections=["hooker", "copiste"], synthetic_ratio=2.0, synthetic_test=4)
        mix.load_or_generate_data()
    assert "'copiste' is not at" in caplog.text and "--import FOLDER" in caplog.text
    hooker = mix.real[0]
    real_train = len(hooker.x_train)
    assert len(mix.x_train) == 3 * real_train and len(mix.x_test) == len(hooker.x_test) + 4
    assert mix.x_train.shape[1:] == hooker.x_train.shape[1:] == mix.input_shape
    np.testing.assert_array_equal(mix.validation_mask()[:real_train], hooker.validation_mask())
    assert [decode(y) for y in mix.y_test[:3]] == TEXTS
    assert mix.config()["attribution"] == [HookerLinesDataset.attribution]


def test_mixed_lines_oversample_repeats_training_lines_only(data_root, served_hooker):
    download_collection("hooker")
    plain = MixedLinesDataset(collections=["hooker"], synthetic_test=4)
    twice = MixedLinesDataset(collections=["hooker"], synthetic_test=4, oversample={"hooker": 2})
    plain.load_or_generate_data()
    twice.load_or_generate_data()
    hooker = twice.real[0]
    training = ~hooker.validation_mask()
    assert len(twice.x_train) == len(plain.x_train) + training.sum()  # As many synthetic lines as without.
    np.testing.assert_array_equal(twice.x_train[len(plain.x_train) :], hooker.x_train[training])
    np.testing.assert_array_equal(twice.y_train[len(plain.x_train) :], hooker.y_train[training])
    np.testing.assert_array_equal(twice.validation_mask()[: len(plain.x_train)], plain.validation_mask())
    assert not twice.validation_mask()[len(plain.x_train) :].any()
    assert twice.data_version == plain.data_version + "-hookerx2"
    with pytest.raises(ValueError, match="oversample takes whole numbers of at least 1"):
        MixedLinesDataset(collections=["hooker"], oversample={"hooker": 0})
    with pytest.raises(ValueError, match="oversample names \\['poilus'\\], not in collections"):
        MixedLinesDataset(collections=["hooker"], oversample={"poilus": 2})


def test_mixed_lines_without_real_collections_say_so_and_use_synthetic_lines(data_root, caplog):
    with caplog.at_level(logging.WARNING):
        mix = MixedLinesDataset(collections=[], synthetic_train=12, synthetic_test=4)
        mix.load_or_generate_data()
    assert "training on synthetic lines only" in caplog.text
    assert len(mix.x_train) == 12 and "attribution" not in mix.config()
    with pytest.raises(ValueError, match="Unknown collections \\['iam'\\]; valid: hooker, copiste, poilus"):
        MixedLinesDataset(collections=["iam"])


def test_copiste_splits_by_text_folds_french_and_skips_page_codes(data_root, shared):
    pages = shared("real-handwriting/copiste/pages")
    import_collection("copiste", pages)
    dataset = CopisteLinesDataset()
    dataset.load_or_generate_data()
    counts = dataset.counts
    assert counts["pages"] == 291 and counts["skip_pattern"] > 150 and counts["editorial markup"] > 100
    assert counts["folded"] > 3000 and counts["test lines"] > 300 and counts["validation lines"] > 300
    texts = {split: {decode(y) for y in ys} for split, ys in (("train", dataset.y_train), ("test", dataset.y_test))}
    assert not any(re.search(r"wikitexte|[<>]", t) for t in texts["train"] | texts["test"])
    assert all(set(t) <= set(dataset.mapping) for t in texts["test"])
    groups = {dataset.group(p.stem) for p in pages.glob("*.xml")}
    assert len(groups) >= 200  # About 240 texts (one writer each); texts of two series sharing a number stay together.
    assert dataset.group("imp_wikitexte_0172_double") == dataset.group("imp_wikitexte_0172") == "0172"
    assert dataset.group("wikitexte_0221_double_2") == dataset.group("wikitexte_0221_1") == "0221"


def test_poilus_splits_by_will_and_skips_lines_along_the_margin(data_root, shared):
    pages = shared("real-handwriting/poilus/pages")
    import_collection("poilus", pages)
    dataset = PoilusLinesDataset(line_height=48)
    dataset.load_or_generate_data()
    counts = dataset.counts
    assert counts["pages"] == 173 and counts["vertical"] == 35  # The README counts 35 lines written vertically.
    assert counts["test lines"] > 100 and counts["validation lines"] > 100 and counts["train lines"] > 1500
    assert dataset.x_train.shape[1:] == (48, 1920) and dataset.config()["attribution"] == [
        PoilusLinesDataset.attribution
    ]
    assert dataset.group("TestamentsDePoilus_will_AN_0228-1") == dataset.group("TestamentsDePoilus_will_AN_0228-0")
    assert len({dataset.group(p.stem) for p in pages.glob("*.xml")}) == 112  # One will, one writer.
    with pytest.raises(ValueError, match="line_height must be a positive multiple of 16 \\(32, or 48 for PP-OCR\\)"):
        PoilusLinesDataset(line_height=40)
