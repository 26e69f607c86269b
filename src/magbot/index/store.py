"""The vector index in Chroma: embedded on disk (``PersistentClient``) by default, or a Chroma server.

Collections are named by a hash of the embedding model and the chunking settings, so a changed setting
never reuses vectors made another way. Within them, chunk ids come from the chunk's content, and each
record carries the hash of the exact text embedded: an ingest embeds only what is new or changed and
removes what is gone. The knowledge fingerprint is recorded on the collection only after a complete
sync; deletions come last, so an interrupted ingest leaves every vector of the previous index in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from magbot._errors import IndexError_
from magbot._models import Chunk
from magbot.index.chunking import CHUNKER_VERSION

if TYPE_CHECKING:
    from magbot.index.embed import Embedder

log = logging.getLogger(__name__)
_PREFIX = "magbot-"
HTTP_TIMEOUT = 15.0  # seconds; a Chroma server that stops answering must not hang magbot


def settings_key(model: str, chunk_size: int, chunk_overlap: int) -> str:
    key = f"{model}|chunker={CHUNKER_VERSION}|size={chunk_size}|overlap={chunk_overlap}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def index_version(key: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{key}|{fingerprint}".encode()).hexdigest()[:16]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class BuildReport:
    version: str
    built: bool  # False when the index was already up to date
    sources: int
    chunks: int
    sentences: int
    seconds: float
    added: int = 0  # passages embedded for the first time
    updated: int = 0  # passages re-embedded because their text changed
    removed: int = 0  # passages deleted
    files_added: tuple[str, ...] = ()
    files_updated: tuple[str, ...] = ()
    files_removed: tuple[str, ...] = ()


def persistent_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:  # chroma raises many types; all mean the same to the user
        raise IndexError_(f"cannot open the index at {path}: {exc}") from exc


def http_client(url: str, token: str | None = None) -> Any:
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IndexError_(f"MAGBOT_CHROMA_URL must look like http://host:8000, not {url!r}")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        client = chromadb.HttpClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 8000),
            ssl=parts.scheme == "https",
            headers=headers,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except Exception as exc:
        raise IndexError_(f"cannot reach the Chroma server at {url}: {type(exc).__name__}: {exc}") from exc
    # chromadb's HTTP client waits forever by default; give its session a deadline.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        session.timeout = httpx.Timeout(HTTP_TIMEOUT, connect=5.0)
    return client


class VectorStore:
    """Passage and sentence vectors for one embedding model and chunking setup."""

    def __init__(self, connect: Callable[[], Any], key: str, fingerprint: str, where: str) -> None:
        self._connect = connect
        self.key = key
        self.fingerprint = fingerprint
        self.where = where  # for messages: a path or a URL
        self.version = index_version(key, fingerprint)
        self._client_obj: Any = None
        self._passages_obj: Any = None

    def _fail(self, action: str, exc: Exception) -> IndexError_:
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return IndexError_(f"cannot {action} the index at {self.where}: {detail}")

    @property
    def _client(self) -> Any:
        if self._client_obj is None:
            self._client_obj = self._connect()
        return self._client_obj

    @property
    def passages_name(self) -> str:
        return f"{_PREFIX}{self.key}-passages"

    @property
    def sentences_name(self) -> str:
        return f"{_PREFIX}{self.key}-sentences"

    def _collection(self, name: str) -> Any:
        return self._client.get_or_create_collection(
            name=name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def _state(self) -> dict[str, Any]:
        try:
            names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
            if self.passages_name not in names or self.sentences_name not in names:
                return {}
            return dict(self._client.get_collection(self.passages_name, embedding_function=None).metadata or {})
        except IndexError_:
            raise
        except Exception as exc:
            raise self._fail("read", exc) from exc

    def built_by(self) -> str | None:
        """The embedder (model, backend, export recipe, model hash) that made the index's vectors."""
        value = self._state().get("embedder")
        return str(value) if value else None

    def exists(self) -> bool:
        """Whether the index holds exactly the current knowledge files (a completed sync)."""
        return self._state().get("kb_fingerprint") == self.fingerprint

    def build(
        self,
        chunks: list[Chunk],
        texts: list[str],
        embedder: Embedder,
        progress: bool = False,
        source_hashes: dict[str, str] | None = None,
    ) -> BuildReport:
        """Bring the index in line with ``chunks``: embed new or changed passages, delete gone ones."""
        start = time.perf_counter()
        sources = source_hashes or {}
        n_sent = sum(len(c.sentences) for c in chunks)
        state = self._state()
        if state.get("kb_fingerprint") == self.fingerprint:
            return BuildReport(self.version, False, len(sources), len(chunks), n_sent, time.perf_counter() - start)
        before: dict[str, str] = json.loads(state.get("source_hashes", "{}"))
        try:
            passages = self._collection(self.passages_name)
            sentences = self._collection(self.sentences_name)
            passages.modify(metadata={"kb_fingerprint": "syncing", "source_hashes": json.dumps(before)})
            existing = passages.get(include=["metadatas"])
            have = {i: (m or {}).get("text_hash") for i, m in zip(existing["ids"], existing["metadatas"], strict=True)}
            wanted = {c.id: (c, t, text_hash(t)) for c, t in zip(chunks, texts, strict=True)}
            new = [cid for cid in wanted if cid not in have]
            changed = [cid for cid in wanted if cid in have and have[cid] != wanted[cid][2]]
            gone = [cid for cid in have if cid not in wanted]
            todo = [wanted[cid] for cid in new + changed]
            self._write(passages, sentences, todo, embedder, progress, replace=changed)
            if gone:
                passages.delete(ids=gone)
                sentences.delete(where={"chunk_id": {"$in": gone}})
            done = {"kb_fingerprint": self.fingerprint, "source_hashes": json.dumps(sources), "embedder": embedder.name}
            passages.modify(metadata=done)  # which model file and backend made these vectors
        except IndexError_:
            raise
        except Exception as exc:
            raise self._fail("write", exc) from exc
        self._passages_obj = None
        self._drop_stale()
        return BuildReport(
            self.version,
            True,
            len(sources),
            len(chunks),
            n_sent,
            time.perf_counter() - start,
            added=len(new),
            updated=len(changed),
            removed=len(gone),
            files_added=tuple(sorted(set(sources) - set(before))),
            files_updated=tuple(sorted(s for s in sources if s in before and before[s] != sources[s])),
            files_removed=tuple(sorted(set(before) - set(sources))),
        )

    def _write(
        self,
        passages: Any,
        sentences: Any,
        todo: Sequence[tuple[Chunk, str, str]],
        embedder: Embedder,
        progress: bool,
        replace: Sequence[str],
    ) -> None:
        if replace:
            sentences.delete(where={"chunk_id": {"$in": list(replace)}})
        from tqdm import tqdm

        with tqdm(total=len(todo), desc="embedding", unit="passage", disable=not progress, leave=False) as bar:
            for i in range(0, len(todo), 16):
                batch = todo[i : i + 16]
                sent = [(f"{c.id}#{j}", s.text, c.id) for c, _, _ in batch for j, s in enumerate(c.sentences)]
                vectors = embedder.embed([t for _, t, _ in batch] + [t for _, t, _ in sent])
                # sentences first: a passage is only ever present together with its sentences
                if sent:
                    sentences.upsert(
                        ids=[s[0] for s in sent],
                        embeddings=vectors[len(batch) :],
                        documents=[s[1] for s in sent],
                        metadatas=[{"chunk_id": s[2]} for s in sent],
                    )
                passages.upsert(
                    ids=[c.id for c, _, _ in batch],
                    embeddings=vectors[: len(batch)],
                    documents=[t for _, t, _ in batch],
                    metadatas=[{"source_id": c.source_id, "section": c.section, "text_hash": h} for c, _, h in batch],
                )
                bar.update(len(batch))

    def _drop_stale(self) -> None:
        keep = {self.passages_name, self.sentences_name}
        try:
            for c in self._client.list_collections():
                name = c if isinstance(c, str) else c.name
                if name.startswith(_PREFIX) and name not in keep:
                    log.info("removing index collection made with other settings: %s", name)
                    self._client.delete_collection(name)
        except Exception as exc:  # tidying is best effort
            log.warning("could not remove stale collections: %s", exc)

    def sentence_vectors(self) -> dict[str, np.ndarray]:
        """All sentence vectors by id (``<chunk id>#<n>``)."""
        try:
            got = self._client.get_collection(self.sentences_name, embedding_function=None).get(include=["embeddings"])
        except Exception as exc:
            raise self._fail("read", exc) from exc
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest passages as (chunk id, cosine similarity), best first."""
        try:
            if self._passages_obj is None:
                self._passages_obj = self._client.get_collection(self.passages_name, embedding_function=None)
            res = self._passages_obj.query(query_embeddings=[vector.tolist()], n_results=k, include=["distances"])
        except Exception as exc:
            raise self._fail("query", exc) from exc
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
