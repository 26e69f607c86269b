"""The composition root: one object that the CLI, the web UI and the API all call."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._models import Answer, Chunk, Hit, StreamEvent, Turn
from ._settings import Settings
from .answer import compose, named_sources
from .chunking import chunk_knowledge, index_text
from .embed import Embedder
from .ingest import KnowledgeBase, load_knowledge
from .llm_answer import generate_answer
from .retrieve import HybridRetriever, resolve
from .safety import (
    CRISIS,
    DISCLAIMER,
    EMERGENCY,
    asks_for_numbers,
    is_dose_question,
    normalise,
    on_topic,
    strip_injection,
    urgent_kind,
    validate,
)
from .store import BuildReport, VectorStore, http_client, persistent_client, settings_key

log = logging.getLogger(__name__)

OUT_OF_SCOPE = (
    "magbot only answers questions about magnesium and nerve (neuropathic) pain, using one consumer-health "
    "article and the 9 studies it cites. You could ask, for example: “Does magnesium help nerve pain?”, "
    "“What did the back pain trial find?” or “Is low magnesium linked to diabetic neuropathy?”"
)
INSTRUCTIONS_IGNORED = (
    "magbot does not take instructions from messages; it only answers questions about magnesium and nerve pain "
    "from its sources. "
)
_DOSE_TERMS = " dose mg daily twice oral intravenous"


@dataclass(frozen=True)
class _Ready:
    kb: KnowledgeBase
    chunks: list[Chunk]
    store: VectorStore
    retriever: HybridRetriever
    vectors: dict[str, np.ndarray]
    topic_terms: frozenset[str]


class Magbot:
    """Grounded question answering over the knowledge folder. Safe to share between threads."""

    def __init__(
        self, settings: Settings | None = None, embedder: Embedder | None = None, chat_model: Any = None
    ) -> None:
        self.settings = settings or Settings()
        self.embedder = embedder or Embedder()
        self.chat_model = chat_model  # a LangChain chat model; built from settings on first use if None
        self._ready: _Ready | None = None
        self._lock = threading.Lock()

    # -- index ---------------------------------------------------------------------------------------------
    def _plan(self) -> tuple[KnowledgeBase, list[Chunk], list[str], VectorStore]:
        s = self.settings
        kb = load_knowledge(s.knowledge_dir)
        chunks = chunk_knowledge(kb, s.chunk_size, s.chunk_overlap)
        texts = [index_text(c, kb.by_id[c.source_id]) for c in chunks]
        key = settings_key(self.embedder.name, s.chunk_size, s.chunk_overlap)
        if s.chroma_url:
            url, token = s.chroma_url, s.chroma_token.get_secret_value() if s.chroma_token else None
            store = VectorStore(lambda: http_client(url, token), key, kb.fingerprint, url)
        else:
            path = s.index_dir
            store = VectorStore(lambda: persistent_client(path), key, kb.fingerprint, str(path))
        return kb, chunks, texts, store

    def ingest(self, progress: bool = False) -> BuildReport:
        """Build the index for the current knowledge files and settings (no work if it is up to date)."""
        kb, chunks, texts, store = self._plan()
        report = store.build(chunks, texts, self.embedder, progress=progress, source_hashes=kb.file_hashes)
        log.info("index %s: %s chunks (%s)", report.version, report.chunks, "built" if report.built else "reused")
        return report

    def open(self, on_build: Callable[[], None] | None = None) -> BuildReport | None:
        """Load knowledge, model and index; build the index first if it is missing. Idempotent."""
        with self._lock:
            if self._ready is not None:
                return None
            kb, chunks, texts, store = self._plan()
            report = None
            if not store.exists():
                if on_build:
                    on_build()
                report = store.build(chunks, texts, self.embedder, source_hashes=kb.file_hashes)
            self.embedder.load()
            retriever = HybridRetriever(chunks, texts, store, self.settings.top_k)
            authors = frozenset(a.split()[0].lower() for s in kb.sources for a in s.authors)
            self._ready = _Ready(kb, chunks, store, retriever, store.sentence_vectors(), authors)
            return report

    @property
    def knowledge(self) -> KnowledgeBase:
        self.open()
        assert self._ready is not None
        return self._ready.kb

    @property
    def index_version(self) -> str:
        self.open()
        assert self._ready is not None
        return self._ready.store.version

    # -- answering -----------------------------------------------------------------------------------------
    def ask(self, question: object, history: Sequence[Turn] = ()) -> Answer:
        """The final answer object (the streamed steps are discarded)."""
        final: Answer | None = None
        for event in self.ask_stream(question, history):
            if event.answer is not None:
                final = event.answer
        assert final is not None
        return final

    def ask_stream(self, question: object, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        """Text deltas while the answer is written, a replacement if checking changed it, then the answer."""
        start = time.perf_counter()
        prepared = self._prepare(question, history)
        answer = prepared if isinstance(prepared, Answer) else prepared.extractive
        if isinstance(prepared, _Prepared) and prepared.extractive.status == "answered" and self._llm_wanted():
            final: Answer | None = None
            for event in generate_answer(self, prepared):
                if event.answer is None:
                    yield event
                else:
                    final = event.answer
            assert final is not None
            answer = final
        else:
            yield from word_deltas(answer.answer)
        answer.latency_ms = round((time.perf_counter() - start) * 1000, 1)
        yield StreamEvent("answer", answer=answer)

    def _llm_wanted(self) -> bool:
        return self.chat_model is not None or bool(self.settings.llm_base_url)

    def llm(self) -> Any:
        """The chat model: the injected one, or one built lazily for MAGBOT_LLM_BASE_URL."""
        if self.chat_model is None:
            from .generate import make_chat_model

            self.chat_model = make_chat_model(self.settings)
        return self.chat_model

    def _reply(self, question: str, status: str, text: str, **extra: object) -> Answer:
        return Answer.model_validate(
            {"question": question, "status": status, "answer": text, "disclaimer": DISCLAIMER, **extra}
        )

    def _prepare(self, raw: object, history: Sequence[Turn]) -> Answer | _Prepared:
        """Everything up to the extractive answer; refusals come back as final answers."""
        s = self.settings
        shown = raw if isinstance(raw, str) and len(raw) <= s.max_question_chars else ""
        check = validate(raw, s.max_question_chars)
        if check.problem:
            return self._reply(shown.replace("\x00", ""), "invalid", check.problem, mode="none")
        assert isinstance(raw, str)
        question = normalise(raw)
        kind = urgent_kind(question)
        if kind:
            return self._reply(question, "urgent", CRISIS if kind == "self-harm" else EMERGENCY, mode="none")
        cleaned, injected = strip_injection(question)
        prefix = INSTRUCTIONS_IGNORED if injected else ""
        self.open()
        ready = self._ready
        assert ready is not None
        if not cleaned or not any(ch.isalpha() for ch in cleaned):
            return self._reply(question, "out_of_scope", prefix + OUT_OF_SCOPE, mode="none")
        query = ready.retriever.spell_fix(resolve(cleaned, history, s.max_history_turns))
        if not on_topic(query.text, ready.topic_terms):
            return self._reply(question, "out_of_scope", prefix + OUT_OF_SCOPE, mode="none", retrieval_query=query.text)
        dose = is_dose_question(cleaned)
        vector = self.embedder.embed_one(query.text)
        keyword_query = replace(query, text=query.text + _DOSE_TERMS) if dose else query
        hits = ready.retriever.retrieve(keyword_query, vector, boost=query.prior_sources)
        named = named_sources(query.text, ready.kb)
        if named:  # a study the question names by name: all of its passages are candidates
            seen = {h.chunk.id for h in hits}
            hits += [Hit(c, 0.0, None, None) for c in ready.chunks if c.source_id in named and c.id not in seen]
        composed = compose(
            query.text,
            hits,
            vector,
            ready.vectors,
            ready.kb,
            ready.retriever.vocabulary,
            min_similarity=s.min_similarity,
            max_sentences=s.max_sentences,
            dose=dose,
            numbers=asks_for_numbers(cleaned),
        )
        extractive = self._reply(
            question,
            composed.status,
            prefix + composed.text,
            citations=composed.citations,
            index_version=ready.store.version,
            retrieval_query=query.text,
            mode="extractive" if composed.status == "answered" else "none",
        )
        return _Prepared(question, query.text, hits, ready, extractive, dose, prefix)


@dataclass(frozen=True)
class _Prepared:
    """A question that passed every check, with its retrieved passages and the extractive answer."""

    question: str
    query: str
    hits: list[Hit]
    ready: _Ready
    extractive: Answer
    dose: bool
    prefix: str


def word_deltas(text: str, size: int = 6) -> Iterator[StreamEvent]:
    words = text.split(" ")
    for start in range(0, len(words), size):
        chunk = " ".join(words[start : start + size])
        yield StreamEvent("delta", chunk if start == 0 else " " + chunk)
