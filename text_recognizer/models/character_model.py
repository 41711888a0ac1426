"""Character classification model (EMNIST-style 28×28 inputs)."""

from __future__ import annotations

import numpy as np

from text_recognizer.models.base import Model


class CharacterModel(Model):
    """Classifies one character image into the mapping with a softmax network."""

    preprocessing = "character_input"
    monitor = ("val_accuracy", "max")

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> dict[str, float]:
        """Top-1 accuracy on (x, y)."""
        probs = self.predict(x, batch_size)
        return {"accuracy": float(np.mean(np.argmax(probs, axis=-1) == y))}
