"""The optional semantic layer: multilingual sentence embeddings as one more signal, off unless configured.

``LOTSE_EMBEDDINGS=<backend>:<model or path>`` chooses a backend; nothing is ever downloaded. Backends:

- ``vectors:<file>`` -- static word vectors in the word2vec/fastText text format (``word v1 v2 ...``, an optional
  ``count dim`` first line), e.g. aligned multilingual fastText vectors, where one vector space holds every
  language. A sentence is the normalised mean of its words' vectors. Pure numpy, fast (tens of microseconds).

A backend is a class with ``name`` and ``embed(texts) -> array``; :data:`BACKENDS` maps a backend name to a loader,
so another one (a sentence-transformer from a local folder, say) is one function away.
The semantic signal of a question for a target is its cosine with the nearest example question, keyword or title of
that target ("nearest example").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bot.core.classifier import intents
from bot.core.model import Knowledge
from bot.core.normalize import tokens


class EmbeddingError(Exception):
    """The configured embeddings cannot be used; the message says why, in one line."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of one space."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


class VectorsEmbedder:
    """Mean of static word vectors (words normalised like every other text of Lotse)."""

    def __init__(self, name: str, vectors: dict[str, NDArray[np.float32]], dim: int) -> None:
        self._name = name
        self._vectors = vectors
        self.dim = dim

    @property
    def name(self) -> str:
        return self._name

    @classmethod
    def load(cls, path: str) -> VectorsEmbedder:
        file = Path(path)
        if not file.is_file():
            raise EmbeddingError(f"embeddings file not found: {path}")
        vectors: dict[str, NDArray[np.float32]] = {}
        dim = 0
        with file.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdecimal() for p in parts):
                    continue  # "count dim" header
                if len(parts) < 3:
                    continue
                try:
                    vec = np.array(parts[1:], dtype=np.float32)
                except ValueError as exc:
                    raise EmbeddingError(f"{path}:{number}: not a word followed by numbers") from exc
                dim = dim or len(vec)
                if len(vec) != dim:
                    raise EmbeddingError(f"{path}:{number}: {len(vec)} numbers, expected {dim}")
                norm = float(np.linalg.norm(vec)) or 1.0
                for word in tokens(parts[0])[:1]:
                    vectors.setdefault(word, vec / norm)
        if not vectors:
            raise EmbeddingError(f"{path}: no word vectors in it")
        return cls(f"vectors:{file.name}:{file.stat().st_size}", vectors, dim)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            found = [self._vectors[w] for w in tokens(text) if w in self._vectors]
            if found:
                mean = np.mean(found, axis=0)
                out[row] = mean / (float(np.linalg.norm(mean)) or 1.0)
        return out


BACKENDS: dict[str, Callable[[str], Embedder]] = {"vectors": VectorsEmbedder.load}


def load_embedder(spec: str) -> Embedder:
    """The embedder of ``<backend>:<model or path>``; :class:`EmbeddingError` in one line when it cannot be used."""
    backend, _, model = spec.partition(":")
    if backend not in BACKENDS or not model:
        known = ", ".join(f"{name}:<path>" for name in BACKENDS)
        raise EmbeddingError(f"LOTSE_EMBEDDINGS={spec!r} is not understood; expected one of: {known}")
    return BACKENDS[backend](model)


class SemanticIndex:
    """Embedded example questions, keywords and titles of every target; scores are nearest-example cosines."""

    def __init__(self, embedder: Embedder, matrix: NDArray[np.float32], owners: Sequence[str]) -> None:
        self.embedder = embedder
        self._matrix = matrix
        self._owners = np.array(owners)
        self._targets = sorted(set(owners))
        self._slices = [np.flatnonzero(self._owners == t) for t in self._targets]

    @classmethod
    def build(cls, knowledge: Knowledge, embedder: Embedder) -> SemanticIndex:
        texts: list[str] = []
        owners: list[str] = []
        for topic in knowledge.topics.values():
            for tr in topic.translations.values():
                for text in (tr.title, *tr.examples, *tr.keywords):
                    texts.append(text)
                    owners.append(topic.id)
        for target, intent in intents(knowledge).items():
            for itr in intent.translations.values():
                for text in (*itr.examples, *itr.keywords):
                    texts.append(text)
                    owners.append(target)
        return cls(embedder, embedder.embed(texts), owners)

    def scores(self, text: str) -> dict[str, float]:
        query = self.embedder.embed([text])[0]
        if not query.any():
            return dict.fromkeys(self._targets, 0.0)
        sims = self._matrix @ query
        return {t: float(sims[idx].max()) for t, idx in zip(self._targets, self._slices, strict=True)}
