"""Small data that the notebooks read where the real data is not at the data root: synthetic handwritten pages
written in the real formats (PAGE XML, IAM's form layout, the FSDL DataTurks export), so that every notebook runs
top to bottom anywhere, and reads the real data unchanged where it is."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from text_recognizer.datasets.iam_dataset import IamForm, parse_form
from text_recognizer.datasets.page_xml import to_page_xml
from text_recognizer.datasets.pages_dataset import PageSample, SyntheticPagesDataset
from text_recognizer.datasets.real_handwriting import collection_dir, is_available

SAMPLE_SEED = 11


def synthetic_pages(count: int = 3) -> list[PageSample]:
    """Freshly rendered handwritten pages (fonts held out from training), with line polygons and texts."""
    return SyntheticPagesDataset(num_train=1, num_test=count, seed=SAMPLE_SEED).pages("test")


def sample_folder(name: str) -> Path:
    """An empty temporary folder for a sample of `name`."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-sample-"))


def collection_or_sample(name: str, pages: int = 3) -> tuple[Path, bool]:
    """A real collection's folder where it is at the data root, else a folder of synthetic pages with PAGE XML;
    and whether it is the real one."""
    if is_available(name):
        return collection_dir(name), True
    folder = sample_folder(name)
    for index, page in enumerate(synthetic_pages(pages)):
        image_name = f"page-{index}.png"
        Image.fromarray(page.image).save(folder / image_name)
        size = (page.image.shape[1], page.image.shape[0])
        lines = list(zip(page.polygons, page.texts, strict=True))
        (folder / f"page-{index}.xml").write_bytes(to_page_xml(image_name, size, lines))
    return folder, False


def iam_forms(pages: int = 2) -> list[IamForm]:
    """Forms in IAM's layout (a full-resolution XML per form, its scan at half size) made from synthetic pages, read
    with the IAM reader."""
    folder = sample_folder("iam")
    forms = []
    for index, page in enumerate(synthetic_pages(pages)):
        form_id = f"s0{index}-000"
        image = folder / f"{form_id}.jpg"
        Image.fromarray(page.image).save(image, quality=90)
        height, width = page.image.shape
        lines = []
        for k, (polygon, text) in enumerate(zip(page.polygons, page.texts, strict=True)):
            x0, y0 = (2 * polygon.min(axis=0)).astype(int)
            x1, y1 = (2 * polygon.max(axis=0)).astype(int)
            escaped = text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            lines.append(
                f'<line id="{form_id}-{k:02d}" text="{escaped}"><word id="{form_id}-{k:02d}-00" text="w">'
                f'<cmp x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/></word></line>'
            )
        xml = (
            f'<form id="{form_id}" writer-id="{900 + index}" width="{2 * width}" height="{2 * height}">'
            f"<handwritten-part>{''.join(lines)}</handwritten-part></form>"
        )
        (folder / f"{form_id}.xml").write_text(xml)
        forms.append(parse_form(folder / f"{form_id}.xml", image))
    return forms


def fsdl_export(pages: int = 3) -> Path:
    """A DataTurks export (one JSON object per page) of synthetic pages, their images given by file URLs."""
    folder = sample_folder("fsdl")
    rows = []
    for index, page in enumerate(synthetic_pages(pages)):
        image = folder / f"page-{index}.png"
        Image.fromarray(page.image).save(image)
        height, width = page.image.shape
        annotation = [
            {"label": ["line"], "shape": "polygon", "points": (polygon / [width, height]).tolist(), "notes": text}
            for polygon, text in zip(page.polygons, page.texts, strict=True)
        ]
        rows.append(json.dumps({"content": image.as_uri(), "annotation": annotation}))
    export = folder / "fsdl_handwriting.json"
    export.write_text("\n".join(rows) + "\n")
    return export


def show_page(ax: plt.Axes, image: np.ndarray, polygons: list[np.ndarray], color: str = "tab:red") -> None:
    """A page with line outlines drawn over it."""
    ax.imshow(image, cmap="gray")
    for polygon in polygons:
        closed = np.vstack([polygon, polygon[:1]])
        ax.plot(closed[:, 0], closed[:, 1], color=color, linewidth=1)
    ax.axis("off")


def show_lines(images: list[np.ndarray], titles: list[str], columns: int = 1) -> plt.Figure:
    """Line images under each other, each titled."""
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(12 * columns, 1.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        ax.imshow(image, cmap="gray", aspect="equal")
        ax.set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return fig
