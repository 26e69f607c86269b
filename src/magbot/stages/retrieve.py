"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused by reciprocal rank fusion.

Follow-up questions arrive already resolved against the conversation (see ``understand``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from magbot._models import Chunk, Hit
from magbot.index.store import VectorStore
from magbot.text import search_terms

RRF_K = 60


@dataclass(frozen=True)
class Query:
    """What retrieval searches for: the question, resolved against history when it is a follow-up."""

    text: str
    question: str
    follow_up: bool
    prior_sources: tuple[str, ...]  # sources cited in the previous answer


class KeywordIndex:
    """BM25 over a fixed list of texts, in the sources' words (``search_terms``: stems, lay words mapped)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._bm25 = BM25Okapi([search_terms(t) for t in texts]) if texts else None

    def ranked(self, text: str) -> list[tuple[int, float]]:
        """(position, score) of every text holding a word of ``text``, the best match first."""
        terms = search_terms(text)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        return [(int(i), float(scores[i])) for i in np.argsort(-scores) if scores[i] > 0]


class HybridRetriever:
    """Dense + BM25 over the passages of one index version."""

    def __init__(self, chunks: Sequence[Chunk], texts: Sequence[str], store: VectorStore, top_k: int) -> None:
        self.chunks = list(chunks)
        self.by_id = {c.id: c for c in self.chunks}
        self.store = store
        self.top_k = top_k
        self._keywords = KeywordIndex(texts)

    def keyword_ranking(self, text: str) -> list[tuple[str, float]]:
        return [(self.chunks[i].id, score) for i, score in self._keywords.ranked(text)]

    def retrieve(self, query: Query, vector: np.ndarray, boost: Sequence[str] = ()) -> list[Hit]:
        """Fuse both rankings; passages of ``boost`` sources (cited just before) get one extra vote."""
        depth = max(self.top_k * 2, 12)
        dense = self.store.query(vector, min(depth, len(self.chunks)))
        keyword = self.keyword_ranking(query.text)[:depth]
        scores: dict[str, float] = {}
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense)}
        keyword_rank = {cid: r for r, (cid, _) in enumerate(keyword)}
        for ranking in (dense, keyword):
            for rank, (cid, _) in enumerate(ranking):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        if boost:
            for cid in scores:
                if self.by_id[cid].source_id in boost:
                    scores[cid] += 1.0 / (RRF_K + 1)
        best = sorted(scores, key=lambda c: -scores[c])[: self.top_k]
        return [Hit(self.by_id[c], scores[c], dense_rank.get(c), keyword_rank.get(c)) for c in best]
