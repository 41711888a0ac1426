"""Datasets by experiment-JSON name."""

from text_recognizer.datasets.dataset import Dataset
from text_recognizer.datasets.emnist_dataset import EmnistDataset

DATASETS: dict[str, type[Dataset]] = {"EmnistDataset": EmnistDataset}
