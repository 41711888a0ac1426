"""Export saved models to ONNX beside their weights (`<name>.onnx`), for serving with ONNX Runtime."""

from __future__ import annotations

import argparse
from pathlib import Path

from text_recognizer.line_predictor import DEFAULT_ARTIFACT


def export(artifact: Path) -> Path:
    """Rebuild the model of `artifact` (.json), write its `.onnx` atomically and return that path."""
    from text_recognizer.models import load_model

    model = load_model(artifact)
    onnx_path = artifact.with_suffix(".onnx")
    model.export_onnx(onnx_path)
    return onnx_path


def main() -> None:
    """Export each artifact given (default: the shipped line model)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("artifacts", nargs="*", type=Path, default=[DEFAULT_ARTIFACT], help="model .json files")
    for artifact in parser.parse_args().artifacts:
        print(f"wrote {export(artifact)}")


if __name__ == "__main__":
    main()
