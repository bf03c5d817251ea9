"""Face detection and 128-d face descriptors with dlib: the only module that imports dlib.

Uses dlib's HOG detector, the 5-point landmark model and the ResNet descriptor shipped by the
`face-recognition-models` package (its 68-point model is not used: its training data forbids
commercial use). Models load once per process, on first use.
"""

import importlib.util
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

# HOG detections scoring under this are mostly patterns that merely look like faces.
DETECTION_THRESHOLD = 0.5
# dlib's models are shared by the process and not thread-safe: two threads running them at once
# (a threaded worker pool, eager tasks in concurrent requests) abort the interpreter.
_DLIB = threading.Lock()


@dataclass(frozen=True)
class FaceReport:
    count: int
    # Descriptor of the largest face, or None when there is no face.
    descriptor: list[float] | None


@cache
def _models():
    # Loaded on first use: the models take seconds and most processes never look at a face.
    import dlib  # type: ignore[import-untyped]  # dlib ships no type information

    # Located without importing the package, whose __init__ needs the removed pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise RuntimeError("face_recognition_models is not installed")
    folder = Path(spec.origin).parent / "models"
    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")),
    )


def describe_faces(image: Image.Image) -> FaceReport:
    pixels = np.asarray(image.convert("RGB"))
    with _DLIB:
        detector, landmarks, recognizer = _models()
        boxes, scores, _ = detector.run(pixels, 0, DETECTION_THRESHOLD)
        if not boxes:
            return FaceReport(count=0, descriptor=None)
        largest = max(boxes, key=lambda box: box.area())
        descriptor = recognizer.compute_face_descriptor(pixels, landmarks(pixels, largest))
    return FaceReport(count=len(boxes), descriptor=[round(value, 6) for value in descriptor])


def descriptor_distance(first: list[float], second: list[float]) -> float:
    return float(np.linalg.norm(np.asarray(first) - np.asarray(second)))
