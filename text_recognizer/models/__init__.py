"""Models by experiment-JSON name, and loading a saved model from its artifact."""

import json
from pathlib import Path

from text_recognizer.models.base import Model
from text_recognizer.models.character_model import CharacterModel
from text_recognizer.models.line_detector_model import LineDetectorModel
from text_recognizer.models.line_model import LineModel
from text_recognizer.models.line_model_ctc import LineModelCtc

MODELS: dict[str, type[Model]] = {
    "CharacterModel": CharacterModel,
    "LineModel": LineModel,
    "LineModelCtc": LineModelCtc,
    "LineDetectorModel": LineDetectorModel,
}


def load_model(artifact: Path) -> Model:
    """Rebuild the saved model whose `.json` is `artifact`, with its weights."""
    return MODELS[json.loads(Path(artifact).read_text())["model"]].load(Path(artifact))
