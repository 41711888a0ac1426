import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from text_recognizer.datasets import fsdl_handwriting
from text_recognizer.datasets.dataset import DownloadError
from text_recognizer.datasets.fsdl_handwriting import FsdlHandwritingDataset, parse_export
from text_recognizer.line_codec import decode

SIZE = (600, 400)  # Width, height of every fabricated page.
TEXTS = [
    ["the quick fox", "jumps over it", "a lazy dog"],
    ["hello there", "how are you"],
    ["one line"],
    ["so", "be it"],
]


def page_image(texts: list[str], fmt: str) -> bytes:
    image = Image.new("L", SIZE, 235)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(texts):
        draw.text((40, 50 + 100 * row), text, fill=20, font_size=40)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def annotation(row: int, text: str, shape: str) -> dict:
    top, bottom = (40 + 100 * row) / SIZE[1], (110 + 100 * row) / SIZE[1]
    corners = [[0.05, top], [0.9, bottom]]
    points = corners if shape == "rectangle" else [[0.05, top], [0.9, top], [0.9, bottom], [0.05, bottom]]
    return {"label": ["line"], "shape": shape, "points": points, "notes": text, "imageWidth": 1, "imageHeight": 1}


@pytest.fixture
def export(serve_raw, file_server, data_root, monkeypatch):
    """Fabricated pages served on 127.0.0.1 and an export naming them, lines listed bottom first."""
    monkeypatch.setattr(fsdl_handwriting, "RETRY_WAIT_S", 0.0)
    rows = []
    for index, texts in enumerate(TEXTS):
        suffix, fmt = (".png", "PNG") if index % 2 else (".jpg", "JPEG")
        path = f"/pages/{index}{suffix}"
        file_server.files[path] = page_image(texts, fmt)
        lines = [annotation(row, text, "rectangle" if row % 2 else "polygon") for row, text in enumerate(texts)]
        rows.append(json.dumps({"content": file_server.url + path, "annotation": lines[::-1], "extras": None}))
    serve_raw(fsdl_handwriting.NAME, "fsdl_handwriting.json", "\n".join(rows).encode())
    return [f"/pages/{index}{'.png' if index % 2 else '.jpg'}" for index in range(len(TEXTS))]


def texts_of(dataset: FsdlHandwritingDataset) -> list[str]:
    labels = np.concatenate([dataset.y_train, dataset.y_test])
    return sorted(decode(label) for label in labels)


def test_pages_download_once_and_read_as_lines_and_as_pages(export, file_server):
    dataset = FsdlHandwritingDataset(test_fraction=0.25, validation_fraction=0.25)
    dataset.load_or_generate_data()
    assert texts_of(dataset) == sorted(text for texts in TEXTS for text in texts)
    assert len(dataset.x_test) in {len(texts) for texts in TEXTS}  # The test split is one whole page.
    pages = dataset.pages()
    test_pages = pages.pages("test")
    (test_page,) = test_pages
    assert test_page.image.shape == (SIZE[1], SIZE[0])
    rows = len(test_page.polygons)
    assert [round(polygon[:, 1].min()) for polygon in test_page.polygons] == [40 + 100 * row for row in range(rows)]
    assert all(
        np.allclose(polygon[:, 0].min(), 30) and np.allclose(polygon[:, 0].max(), 540) for polygon in test_page.polygons
    )
    hits = dict(file_server.hits)
    FsdlHandwritingDataset(test_fraction=0.25, validation_fraction=0.25).load_or_generate_data()
    assert dict(file_server.hits) == hits  # Everything is there already: nothing is fetched again.


def test_a_failing_server_loses_only_its_pages_and_a_rerun_fetches_just_those(export, file_server):
    missing = file_server.files.pop(export[2])
    with pytest.raises(
        DownloadError, match=f"1 of 4 page images could not be downloaded, e.g. {file_server.url}{export[2]}"
    ):
        FsdlHandwritingDataset().load_or_generate_data()
    assert file_server.hits[export[2]] == fsdl_handwriting.ATTEMPTS
    assert len(list(fsdl_handwriting.pages_dir().glob("*.xml"))) == 3
    file_server.files[export[2]] = missing
    before = dict(file_server.hits)
    dataset = FsdlHandwritingDataset()
    dataset.load_or_generate_data()
    assert texts_of(dataset) == sorted(text for texts in TEXTS for text in texts)
    fetched = {path for path, count in file_server.hits.items() if count != before.get(path, 0)}
    assert fetched == {export[2]}


def test_errors_stalls_and_broken_images_are_tried_again(export, file_server, monkeypatch):
    monkeypatch.setattr(fsdl_handwriting, "IMAGE_TIMEOUT_S", 0.5)
    file_server.fail[export[0]] = 2  # Two 503s, then the image.
    file_server.stall[export[1]] = 1  # Longer than the timeout once.
    broken = file_server.files[export[3]]
    file_server.files[export[3]] = broken[:100]  # Not an image: refused, and no good copy comes.
    with pytest.raises(DownloadError, match=f"{file_server.url}{export[3]} is not an image"):
        FsdlHandwritingDataset().load_or_generate_data()
    assert file_server.hits[export[0]] == 3 and file_server.hits[export[1]] == 2
    assert file_server.hits[export[3]] == fsdl_handwriting.ATTEMPTS
    assert len(list(fsdl_handwriting.pages_dir().glob("*.xml"))) == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"content": "http://127.0.0.1/a.jpg", "annotation": [{"points": [[0.1, 0.2]], "notes": "x"}]}', "Line 2"),
        ('{"annotation": []}', "Line 2 of the export is not a DataTurks page \\(KeyError\\('content'\\)\\)"),
        ("{not json", "Line 2 of the export is not a DataTurks page"),
        (
            '{"content": "u", "annotation": [{"points": [[0.1, 0.2], [1.5, 0.3]], "shape": "rectangle"}]}',
            "in \\[0, 1\\]",
        ),
    ],
)
def test_a_malformed_export_is_refused_naming_its_line(row, message):
    good = '{"content": "http://127.0.0.1/p.jpg", "annotation": null}'
    with pytest.raises(ValueError, match=message):
        parse_export(good + "\n" + row)


def test_pages_prepared_from_a_local_export_need_no_download(tmp_path, data_root, file_server):
    export = tmp_path / "export.json"
    file_server.files["/page.png"] = page_image(TEXTS[0], "PNG")
    lines = [annotation(row, text, "rectangle") for row, text in enumerate(TEXTS[0])]
    export.write_text(json.dumps({"content": f"{file_server.url}/page.png", "annotation": lines}))
    fsdl_handwriting.prepare_pages(export)
    dataset = FsdlHandwritingDataset(test_fraction=0.0)  # The published export is never asked for.
    dataset.load_or_generate_data()
    assert texts_of(dataset) == sorted(TEXTS[0]) and file_server.hits["/page.png"] == 1
