"""Recognize a single handwritten character from an image of any size and either polarity."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from text_recognizer import WEIGHTS_DIR
from text_recognizer.preprocessing import ImageInput, character_input

DEFAULT_ARTIFACT = WEIGHTS_DIR / "CharacterModel_EmnistDataset_lenet.json"


class CharacterPredictor:
    """Loads a saved character model once and classifies images with it.

    Args:
        artifact: path of the model's `.json` (its `.weights.h5` lies beside it).
    """

    def __init__(self, artifact: str | Path = DEFAULT_ARTIFACT) -> None:
        from text_recognizer.models import load_model  # Keras is imported only when a predictor is built.

        config = json.loads(Path(artifact).read_text())
        if config.get("preprocessing") != "character_input":
            raise ValueError(f"{artifact} is not a character model (preprocessing {config.get('preprocessing')!r})")
        self.model = load_model(Path(artifact))
        self.mapping: list[str] = config["mapping"]

    def predict(self, image: ImageInput) -> tuple[str, float]:
        """Classify one character.

        Args:
            image: path, PIL image or array (H×W or H×W×C); dark-on-light or white-on-black.

        Returns:
            The character and the model's probability for it.
        """
        x = character_input(image)[None].astype(np.float32)  # (1, 28, 28)
        probs = np.asarray(self.model.network.predict_on_batch(x))[0]  # (num_classes,)
        index = int(np.argmax(probs))
        return self.mapping[index], float(probs[index])


def main() -> None:
    """Print the character and confidence for each image path given."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+", help="image files")
    args = parser.parse_args()
    predictor = CharacterPredictor()
    for path in args.images:
        char, conf = predictor.predict(path)
        print(f"{path}\t{char!r}\t{conf:.3f}")


if __name__ == "__main__":
    main()
