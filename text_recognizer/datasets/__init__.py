"""Datasets by experiment-JSON name."""

from text_recognizer.datasets.dataset import Dataset
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.datasets.emnist_lines_dataset import EmnistLinesDataset
from text_recognizer.datasets.iam_lines_dataset import IamLinesDataset
from text_recognizer.datasets.line_folder_dataset import LineFolderDataset
from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset

DATASETS: dict[str, type[Dataset]] = {
    "EmnistDataset": EmnistDataset,
    "EmnistLinesDataset": EmnistLinesDataset,
    "IamLinesDataset": IamLinesDataset,
    "LineFolderDataset": LineFolderDataset,
    "SyntheticLinesDataset": SyntheticLinesDataset,
}
