"""Models by experiment-JSON name."""

from text_recognizer.models.base import Model
from text_recognizer.models.character_model import CharacterModel
from text_recognizer.models.line_model import LineModel
from text_recognizer.models.line_model_ctc import LineModelCtc

MODELS: dict[str, type[Model]] = {
    "CharacterModel": CharacterModel,
    "LineModel": LineModel,
    "LineModelCtc": LineModelCtc,
}
