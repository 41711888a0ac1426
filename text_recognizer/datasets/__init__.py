"""Datasets by experiment-JSON name."""

from text_recognizer.datasets.dataset import Dataset
from text_recognizer.datasets.emnist_dataset import EmnistDataset
from text_recognizer.datasets.synthetic_lines_dataset import SyntheticLinesDataset

DATASETS: dict[str, type[Dataset]] = {"EmnistDataset": EmnistDataset, "SyntheticLinesDataset": SyntheticLinesDataset}
