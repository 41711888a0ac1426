"""Datasets by experiment-JSON name."""

from text_recognizer.datasets.dataset import Dataset
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.datasets.emnist_lines_dataset import EmnistLinesDataset
from text_recognizer.datasets.fsdl_handwriting import FsdlHandwritingDataset
from text_recognizer.datasets.iam_lines_dataset import IamLinesDataset
from text_recognizer.datasets.iam_paragraphs_dataset import IamParagraphsDataset
from text_recognizer.datasets.line_folder_dataset import LineFolderDataset
from text_recognizer.datasets.mixed_lines_dataset import MixedLinesDataset
from text_recognizer.datasets.page_xml_dataset import PageXmlDataset
from text_recognizer.datasets.pages_dataset import MixedPagesDataset, PageXmlPagesDataset, SyntheticPagesDataset
from text_recognizer.datasets.real_handwriting import CopisteLinesDataset, HookerLinesDataset, PoilusLinesDataset
from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset

DATASETS: dict[str, type[Dataset]] = {
    "CopisteLinesDataset": CopisteLinesDataset,
    "EmnistDataset": EmnistDataset,
    "EmnistLinesDataset": EmnistLinesDataset,
    "FsdlHandwritingDataset": FsdlHandwritingDataset,
    "HookerLinesDataset": HookerLinesDataset,
    "IamLinesDataset": IamLinesDataset,
    "IamParagraphsDataset": IamParagraphsDataset,
    "LineFolderDataset": LineFolderDataset,
    "MixedLinesDataset": MixedLinesDataset,
    "MixedPagesDataset": MixedPagesDataset,
    "PageXmlDataset": PageXmlDataset,
    "PageXmlPagesDataset": PageXmlPagesDataset,
    "PoilusLinesDataset": PoilusLinesDataset,
    "SyntheticLinesDataset": SyntheticLinesDataset,
    "SyntheticPagesDataset": SyntheticPagesDataset,
}
