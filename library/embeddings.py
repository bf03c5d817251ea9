"""Text embeddings for search, by the backend the LIBRARY_EMBEDDING_BACKEND setting names.

An item's vector is the normalised sum of the vector of its whole text and the mean of the vectors
of its short phrases (caption, tags): a one-word query ("people", "food") is as close to a phrase
of an item as to another one-word text, where against the whole description alone it scored no
higher than an unrelated item (bench/relevance.py: no_match_empty 0.22 -> 0.94 at the same hit@5).
Each vector is stored with the backend's `model`, and only vectors of the current model are searched.
"""

import threading
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils.module_loading import import_string

from library.backends.embedders import EmbeddingBackend, ModelIntegrityError

__all__ = ["Document", "ModelIntegrityError", "backend", "embed_documents", "embed_query"]


@dataclass(frozen=True)
class Document:
    text: str  # the whole: caption, description, tags
    phrases: tuple[str, ...] = field(default=())  # short parts, embedded on their own


_backends: dict[str, EmbeddingBackend] = {}
_backends_lock = threading.Lock()


def backend() -> EmbeddingBackend:
    """The configured backend, one per process: its model loads once, whichever thread asks first."""
    path = settings.LIBRARY_EMBEDDING_BACKEND
    with _backends_lock:
        if path not in _backends:
            _backends[path] = import_string(path)()
        return _backends[path]


def model_id() -> str:
    return backend().model


def dimensions() -> int:
    return backend().dimensions


def preload() -> None:
    backend().preload()


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.clip(norms, 1e-9, None)).astype(np.float32)


def embed_query(text: str) -> np.ndarray:
    return _normalised(backend().embed_queries([text])[0])


def embed_documents(documents: list[Document]) -> np.ndarray:
    """(len(documents), dimensions) unit vectors; every text of the batch in one model call."""
    engine = backend()
    if not documents:
        return np.zeros((0, engine.dimensions), dtype=np.float32)
    # Each distinct text once: tags ("landscape", a colour, a camera) repeat across a batch.
    positions: dict[str, int] = {}
    parts = []
    for document in documents:
        texts = [document.text, *(phrase for phrase in document.phrases if phrase)]
        parts.append([positions.setdefault(text, len(positions)) for text in texts])
    vectors = engine.embed_passages(list(positions))
    combined = []
    for whole, *phrases in parts:
        combined.append(vectors[whole] + vectors[phrases].mean(axis=0) if phrases else vectors[whole])
    return _normalised(np.stack(combined))


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)
