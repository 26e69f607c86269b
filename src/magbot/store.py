"""The vector index: Chroma on disk (embedded ``PersistentClient``).

The collection name is a hash of the embedding model, the chunking settings and the knowledge files, so
a changed corpus or setting never reuses a stale index. A build writes to temporary collections and
renames them only when complete, so an interrupted build never leaves a half-built index in use.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import IndexError_
from ._models import Chunk
from .chunking import CHUNKER_VERSION

if TYPE_CHECKING:
    from .embed import Embedder

log = logging.getLogger(__name__)
_PREFIX = "magbot-"


def index_version(model: str, chunk_size: int, chunk_overlap: int, fingerprint: str) -> str:
    key = f"{model}|chunker={CHUNKER_VERSION}|size={chunk_size}|overlap={chunk_overlap}|kb={fingerprint}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BuildReport:
    version: str
    built: bool  # False when an up-to-date index was reused
    sources: int
    chunks: int
    sentences: int
    seconds: float


def _client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
    except Exception as exc:  # chroma raises many types; all mean the same to the user
        raise IndexError_(f"cannot open the index at {path}: {exc}") from exc


class VectorStore:
    """Passage and sentence vectors for one index version."""

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self._client_obj: Any = None

    @property
    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = _client(self.path)
        return self._client_obj

    @property
    def passages_name(self) -> str:
        return f"{_PREFIX}{self.version}-passages"

    @property
    def sentences_name(self) -> str:
        return f"{_PREFIX}{self.version}-sentences"

    def _names(self) -> set[str]:
        try:
            return {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        except Exception as exc:
            raise IndexError_(f"cannot read the index at {self.path}: {exc}") from exc

    def exists(self) -> bool:
        names = self._names()
        return self.passages_name in names and self.sentences_name in names

    def build(self, chunks: list[Chunk], texts: list[str], embedder: Embedder, progress: bool = False) -> BuildReport:
        """Embed and store ``chunks`` (``texts`` are their index texts) unless this version exists."""
        start = time.perf_counter()
        n_sent = sum(len(c.sentences) for c in chunks)
        n_sources = len({c.source_id for c in chunks})
        if self.exists():
            return BuildReport(self.version, False, n_sources, len(chunks), n_sent, time.perf_counter() - start)
        sentences = [(f"{c.id}#{i}", s.text, c.id) for c in chunks for i, s in enumerate(c.sentences)]
        all_texts = texts + [t for _, t, _ in sentences]
        vectors = self._embed_with_progress(all_texts, embedder, progress)
        tmp = f"{_PREFIX}{self.version}-building"
        try:
            for name in (f"{tmp}-p", f"{tmp}-s"):
                if name in self._names():
                    self._client.delete_collection(name)
            passages = self._create(f"{tmp}-p")
            passages.add(
                ids=[c.id for c in chunks],
                embeddings=vectors[: len(chunks)],
                documents=texts,
                metadatas=[{"source_id": c.source_id, "section": c.section} for c in chunks],
            )
            sent = self._create(f"{tmp}-s")
            sent.add(
                ids=[i for i, _, _ in sentences],
                embeddings=vectors[len(chunks) :],
                documents=[t for _, t, _ in sentences],
                metadatas=[{"chunk_id": c} for _, _, c in sentences],
            )
            passages.modify(name=self.passages_name)
            sent.modify(name=self.sentences_name)
        except IndexError_:
            raise
        except Exception as exc:
            raise IndexError_(f"cannot write the index at {self.path}: {exc}") from exc
        self._drop_stale()
        return BuildReport(self.version, True, n_sources, len(chunks), n_sent, time.perf_counter() - start)

    def _create(self, name: str) -> Any:
        return self._client.create_collection(
            name=name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"magbot_version": self.version},
        )

    @staticmethod
    def _embed_with_progress(texts: list[str], embedder: Embedder, progress: bool) -> np.ndarray:
        from tqdm import tqdm

        batch = 32
        parts = []
        with tqdm(total=len(texts), desc="embedding", unit="text", disable=not progress, leave=False) as bar:
            for i in range(0, len(texts), batch):
                parts.append(embedder.embed(texts[i : i + batch]))
                bar.update(len(texts[i : i + batch]))
        return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)

    def _drop_stale(self) -> None:
        keep = {self.passages_name, self.sentences_name}
        for name in self._names() - keep:
            if name.startswith(_PREFIX):
                log.info("removing stale index collection %s", name)
                self._client.delete_collection(name)

    def sentence_vectors(self) -> dict[str, np.ndarray]:
        """All sentence vectors by id (``<chunk id>#<n>``)."""
        try:
            got = self._client.get_collection(self.sentences_name, embedding_function=None).get(include=["embeddings"])
        except Exception as exc:
            raise IndexError_(f"the index at {self.path} is unreadable: {exc}") from exc
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest passages as (chunk id, cosine similarity), best first."""
        try:
            collection = self._passages()
            res = collection.query(query_embeddings=[vector.tolist()], n_results=k, include=["distances"])
        except IndexError_:
            raise
        except Exception as exc:
            raise IndexError_(f"the index at {self.path} is unreadable: {exc}") from exc
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    def _passages(self) -> Any:
        cached = getattr(self, "_passages_obj", None)
        if cached is None:
            cached = self._client.get_collection(self.passages_name, embedding_function=None)
            self._passages_obj = cached
        return cached

    def count(self) -> int:
        return int(self._passages().count())
