import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from text_recognizer.datasets.dataset import DownloadError
from text_recognizer.datasets.iam_dataset import IamDataset, IamForm, extract
from text_recognizer.datasets.iam_lines_dataset import IamLinesDataset
from text_recognizer.line_codec import LINE_HEIGHT, LINE_WIDTH, decode

FORM_WIDTH, FORM_HEIGHT = 2000, 1200  # Full-resolution coordinates in the XML; the JPEG is half size, as FSDL's.
TEXTS = ['"Hello" she said', "A MOVE to stop", "x ~ y"]  # The last line has "~", outside the mapping.


def writer(split: str) -> str:
    """A writer id that the writer-independent split puts in `split`."""
    return next(w for w in (f"{n:03d}" for n in range(1000)) if IamForm("f", w, Path("f.jpg"), ()).split == split)


def form_xml(form_id: str, writer_id: str) -> str:
    """An IAM form XML: each line has two words whose components span x 100-900 and 200 px of height."""
    lines = []
    for k, text in enumerate(TEXTS):
        y = 100 + 300 * k
        escaped = text.replace('"', "&quot;")
        lines.append(
            f'<line id="{form_id}-0{k}" text="{escaped}" segmentation="ok">'
            f'<word id="{form_id}-0{k}-00" text="w"><cmp x="100" y="{y + 20}" width="300" height="180"/></word>'
            f'<word id="{form_id}-0{k}-01" text="w"><cmp x="500" y="{y}" width="400" height="150"/></word></line>'
        )
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<form id="{form_id}" writer-id="{writer_id}" width="{FORM_WIDTH}" height="{FORM_HEIGHT}">'
        f'<machine-printed-part><machine-print-line text="ignored"/></machine-printed-part>'
        f"<handwritten-part>{''.join(lines)}</handwritten-part></form>"
    )


def form_jpeg() -> bytes:
    """Half-resolution scan: dark ink in every word component's box on light paper."""
    page = np.full((FORM_HEIGHT // 2, FORM_WIDTH // 2), 235, dtype=np.uint8)
    for k in range(len(TEXTS)):
        y = (100 + 300 * k) // 2
        for x in range(50, 196, 12):
            page[y + 10 : y + 100, x : x + 5] = 20  # Vertical strokes inside the first word,
        for x in range(250, 446, 12):
            page[y : y + 75, x : x + 5] = 20  # and inside the second.
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def iam_zip(forms: dict[str, str]) -> bytes:
    """An iamdb.zip in the real layout: iamdb/xml/<form>.xml and iamdb/forms/<form>.jpg."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for form_id, writer_id in forms.items():
            zf.writestr(f"iamdb/xml/{form_id}.xml", form_xml(form_id, writer_id))
            zf.writestr(f"iamdb/forms/{form_id}.jpg", form_jpeg())
    return archive.getvalue()


@pytest.fixture
def iam_server(file_server, serve_raw, data_root):
    serve_raw("iam", "iamdb.zip", iam_zip({"a01-000u": writer("train"), "b02-100": writer("test")}))
    return file_server


def test_iam_forms_are_parsed_from_the_real_layout(iam_server):
    iam = IamDataset()
    iam.load_or_generate_data()
    assert [form.id for form in iam.forms] == ["a01-000u", "b02-100"]
    assert [form.split for form in iam.forms] == ["train", "test"]
    lines = iam.forms[0].lines
    assert [line.text for line in lines] == TEXTS
    assert lines[0].box == (50, 50, 451, 151)  # Union of the components, scaled to the half-size image.
    assert repr(iam) == "IamDataset(forms=2, lines=6, writers=2)"


def test_iam_lines_are_cropped_split_by_writer_and_cached(iam_server, data_root):
    dataset = IamLinesDataset()
    dataset.load_or_generate_data()
    assert dataset.x_train.shape == (2, LINE_HEIGHT, LINE_WIDTH) and dataset.x_test.shape == (
        2,
        LINE_HEIGHT,
        LINE_WIDTH,
    )
    assert [decode(y) for y in dataset.y_train] == TEXTS[:2]  # "~" is outside the mapping: skipped.
    for image in dataset.x_train:
        ink_columns = np.flatnonzero(image.max(axis=0) > 128)
        assert ink_columns.min() < 10 and 100 < ink_columns.max() < 200  # Cropped to the ink, scaled to height 32.
    cached = IamLinesDataset()
    cached.load_or_generate_data()
    assert np.array_equal(cached.x_test, dataset.x_test) and iam_server.hits["/iamdb.zip"] == 1
    assert len(list((data_root / "processed" / "iam_lines").glob("*.h5"))) == 1


def test_truncated_iam_download_leaves_nothing(iam_server, data_root):
    iam_server.truncate.add("/iamdb.zip")
    with pytest.raises(DownloadError, match="truncated"):
        IamDataset().load_or_generate_data()
    assert not list((data_root / "downloaded" / "iam").iterdir())


def test_extract_rejects_archives_that_are_not_iam(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a valid zip archive"):
        extract(bad, tmp_path / "out")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("something/else.txt", "x")
    with pytest.raises(ValueError, match="has no iamdb/xml folder"):
        extract(other, tmp_path / "out")
    assert not (tmp_path / "out").exists()
