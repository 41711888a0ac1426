"""Models by experiment-JSON name."""

from text_recognizer.models.base import Model
from text_recognizer.models.character_model import CharacterModel

MODELS: dict[str, type[Model]] = {"CharacterModel": CharacterModel}
