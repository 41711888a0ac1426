"""Reuse the package's fixtures."""

from text_recognizer.tests.conftest import data_root  # noqa: F401
