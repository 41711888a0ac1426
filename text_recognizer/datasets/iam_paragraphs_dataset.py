"""IAM Paragraphs: the handwritten region of each IAM form, cropped with a margin, and its lines' boxes, for the
line detector (split by writer, as IAM Lines is)."""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from text_recognizer.datasets.iam_dataset import TEST_WRITER_PERCENT, IamDataset, IamForm
from text_recognizer.datasets.pages_dataset import PageSample, PagesDataset

IAM_PARAGRAPHS_VERSION = "iam-paragraphs-v1"
MARGIN = 50  # Pixels of the form kept around the handwritten lines (FSDL's buffer).
VALIDATION_PERCENT = 10  # Share of all writers whose forms validate (taken from the training writers).


def paragraph(form: IamForm) -> PageSample:
    """The form's handwritten region with a margin, each line's box as a polygon in the crop's pixels."""
    with Image.open(form.image) as image:
        page = np.asarray(image.convert("L"))
    boxes = np.array([line.box for line in form.lines])
    x0, y0 = np.maximum(boxes[:, :2].min(axis=0) - MARGIN, 0)
    x1, y1 = np.minimum(boxes[:, 2:].max(axis=0) + MARGIN, [page.shape[1], page.shape[0]])
    polygons = [np.array([[a, b], [c, b], [c, d], [a, d]], dtype=np.float64) - (x0, y0) for a, b, c, d in boxes]
    return PageSample(page[y0:y1, x0:x1], polygons, [line.text for line in form.lines])


def form_split(form: IamForm) -> str:
    """ "train", "validation" or "test": the test writers of IAM Lines, and some of the others validating."""
    if form.split == "test":
        return "test"
    return "validation" if form.writer_bucket < TEST_WRITER_PERCENT + VALIDATION_PERCENT else "train"


class IamParagraphsDataset(PagesDataset):
    """The handwritten paragraphs of the IAM forms (downloaded by `IamDataset`) with their line boxes."""

    def __init__(self) -> None:
        self.iam = IamDataset()

    def version(self) -> str:
        """The IAM archive's checksum and the crop's margin."""
        return f"{IAM_PARAGRAPHS_VERSION}-{self.iam.metadata['sha256'][:12]}-m{MARGIN}"

    def pages(self, split: str) -> list[PageSample]:
        """The paragraphs of the split's forms (forms without lines are left out)."""
        if not self.iam.forms:
            self.iam.load_or_generate_data()
        return [paragraph(form) for form in self.iam.forms if form.lines and form_split(form) == split]


def main() -> None:
    """Print the shapes of IAM Paragraphs."""
    argparse.ArgumentParser(description=__doc__).parse_args()
    dataset = IamParagraphsDataset()
    dataset.load_or_generate_data()
    print(dataset)


if __name__ == "__main__":
    main()
