"""Embedding backends for the re-embed tests: vectors that are bags of words (no model to load),
and a record of what was embedded, so a test can tell an upgrade's re-embed from a double one."""

import re
import zlib

import numpy as np

from library.backends.embedders import EmbeddingBackend


class WordsBackend(EmbeddingBackend):
    model = "words-1"
    dimensions = 64

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.calls: list[list[str]] = []
        self.interrupt_at_call = 0  # the call (1, 2, …) that raises KeyboardInterrupt, as Ctrl-C would
        self.during_call = None  # run inside the next call: another worker starting meanwhile

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(texts)
        if self.interrupt_at_call == len(self.calls):
            raise KeyboardInterrupt
        if self.during_call is not None:
            during, self.during_call = self.during_call, None
            during()
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                vectors[row] += np.random.default_rng(zlib.crc32(word.encode())).standard_normal(self.dimensions)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9, None)


class NewWordsBackend(WordsBackend):
    """The model after an upgrade: same words, another model id."""

    model = "words-2"
