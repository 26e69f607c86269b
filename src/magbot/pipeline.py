"""The composition root: one object that the CLI, the web UI and the API all call."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from magbot._models import Answer, Chunk, Hit, StreamEvent, Turn
from magbot._settings import Settings
from magbot.index.chunking import chunk_knowledge, index_text
from magbot.index.embed import Embedder, make_embedder
from magbot.index.ingest import KnowledgeBase, load_knowledge
from magbot.index.store import BuildReport, VectorStore, http_client, persistent_client, settings_key
from magbot.stages.banks import Bank, embed_cached, load_banks
from magbot.stages.choose import FindingIndex
from magbot.stages.compose import compose, decline_text
from magbot.stages.llm_answer import GenerationInput, generate_answer
from magbot.stages.overview import (
    about_all_of_it,
    asked_population,
    asks_overview,
    judges_the_whole_article,
    overview,
)
from magbot.stages.retrieve import HybridRetriever, Query
from magbot.stages.safety import CRISIS, DISCLAIMER, EMERGENCY, is_dose_question, names_subject, on_topic
from magbot.stages.screen import EmergencyModel, screen
from magbot.stages.understand import Resources, Understanding, asks_for_its_study, build_resources, understand

log = logging.getLogger(__name__)

INSTRUCTIONS_IGNORED = (
    "magbot does not take instructions from messages; it only answers questions about magnesium and nerve pain "
    "from its sources. "
)


def out_of_scope_text(kb: KnowledgeBase) -> str:
    studies = kb.study_count
    return (
        "magbot only answers questions about magnesium and nerve (neuropathic) pain, using one consumer-health "
        f"article and the {studies} studies it cites. You could ask, for example: “Does magnesium help nerve "
        "pain?”, “What did the back pain trial find?” or “Is low magnesium linked to diabetic neuropathy?”"
    )


def social_text(kb: KnowledgeBase) -> str:
    """The reply to small talk ("thanks", "hello"): what magbot is for, without repeating an answer."""
    return (
        "magbot is here whenever you have a question about magnesium and nerve (neuropathic) pain; it answers "
        f"from one consumer-health article and the {kb.study_count} studies it cites. You could ask, for example: "
        "“Does magnesium help nerve pain?” or “What did the back pain trial find?”"
    )


@dataclass(frozen=True)
class _Ready:
    kb: KnowledgeBase
    chunks: list[Chunk]
    store: VectorStore
    retriever: HybridRetriever
    vectors: dict[str, np.ndarray]
    topic_terms: frozenset[str]
    resources: Resources
    findings: FindingIndex
    emergencies: EmergencyModel


class Magbot:
    """Grounded question answering over the knowledge folder. Safe to share between threads."""

    def __init__(
        self, settings: Settings | None = None, embedder: Embedder | None = None, chat_model: Any = None
    ) -> None:
        self.settings = settings or Settings()
        self.embedder = embedder or make_embedder(self.settings)
        self.chat_model = chat_model  # a LangChain chat model; built from settings on first use if None
        self._ready: _Ready | None = None
        self._lock = threading.Lock()

    # -- index ---------------------------------------------------------------------------------------------
    def _plan(self) -> tuple[KnowledgeBase, list[Chunk], list[str], VectorStore]:
        s = self.settings
        kb = load_knowledge(s.knowledge_dir)
        chunks = chunk_knowledge(kb, s.chunk_size, s.chunk_overlap, s.data_dir / "cache")
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
        """Build the index for the current knowledge files and settings (no work if it is up to date), then
        everything answering needs (example embeddings, fitted models), so a server starts from caches."""
        kb, chunks, texts, store = self._plan()
        report = store.build(chunks, texts, self.embedder, progress=progress, source_hashes=kb.file_hashes)
        log.info("index %s: %s chunks (%s)", report.version, report.chunks, "built" if report.built else "reused")
        with self._lock:
            self._ready = None
        self.open()
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
            self._ready = self._assemble(kb, chunks, store, retriever, authors)
            return report

    def _assemble(
        self,
        kb: KnowledgeBase,
        chunks: list[Chunk],
        store: VectorStore,
        retriever: HybridRetriever,
        authors: frozenset[str],
    ) -> _Ready:
        """The resources every question uses: banks, finding vectors, vocabularies, the emergency model."""
        cache = self.settings.data_dir / "cache"
        banks = load_banks(self.settings.knowledge_dir, self.embedder.embed, self.embedder.name, cache)
        items = tuple((s, i, f) for s in kb.sources for i, f in enumerate(s.findings))
        finding_vectors = (
            embed_cached([f.text for _, _, f in items], self.embedder.embed, self.embedder.name, cache)
            if items
            else np.zeros((0, 384), dtype=np.float32)
        )
        asked = [(s.id, q) for s in kb.sources for q in s.questions]
        asked_bank = Bank(
            tuple(sid for sid, _ in asked),
            tuple(q for _, q in asked),
            embed_cached([q for _, q in asked], self.embedder.embed, self.embedder.name, cache)
            if asked
            else np.zeros((0, 384), dtype=np.float32),
        )
        resources = build_resources(
            kb, banks, cache, embed=self.embedder.embed, model=self.embedder.name, table_dir=self.embedder.cache_dir
        )
        vectors = store.sentence_vectors()
        vectors.update({f"finding:{s.id}#{i}": v for (s, i, _), v in zip(items, finding_vectors, strict=True)})
        return _Ready(
            kb,
            chunks,
            store,
            retriever,
            vectors,
            authors,
            resources,
            FindingIndex.build(
                items,
                finding_vectors,
                chunks,
                vectors,
                asked_bank,
                resources.measured,
                banks.thesaurus.asks_unmeasured,
            ),
            EmergencyModel(banks, self.settings.urgent_cost, asked_bank, cache),
        )

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
        if isinstance(prepared, GenerationInput) and prepared.extractive.status == "answered" and self._llm_wanted():
            final: Answer | None = None
            for event in generate_answer(prepared, self.llm(), self.settings, self.embedder):
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
            from magbot.stages.generate import make_chat_model

            self.chat_model = make_chat_model(self.settings)
        return self.chat_model

    def _reply(self, question: str, status: str, text: str, **extra: object) -> Answer:
        return Answer.model_validate(
            {"question": question, "status": status, "answer": text, "disclaimer": DISCLAIMER, **extra}
        )

    def _prepare(self, raw: object, history: Sequence[Turn]) -> Answer | GenerationInput:
        """Screen, understand, retrieve and compose; refusals come back as final answers."""
        s = self.settings
        screened = screen(raw, s.max_question_chars)
        if screened.problem:
            return self._reply(screened.question, "invalid", screened.problem, mode="none")
        question = screened.question
        prefix = INSTRUCTIONS_IGNORED if screened.injected else ""
        self.open()
        ready = self._ready
        assert ready is not None
        kb = ready.kb
        if not screened.cleaned or not any(ch.isalpha() for ch in screened.cleaned):
            return self._reply(question, "out_of_scope", prefix + out_of_scope_text(kb), mode="none")
        u = understand(
            screened.cleaned,
            history[-s.max_history_messages :] if s.max_history_turns else (),
            ready.resources,
            self.embedder.embed,
        )
        assert screened.cues is not None
        urgent = ready.emergencies.kind(u.urgency_vector, screened.cues)
        if urgent:  # never retrieves, never reaches a model
            return self._reply(question, "urgent", CRISIS if urgent == "self-harm" else EMERGENCY, mode="none")
        verdict = _verdict(u, ready)
        common = {"retrieval_query": u.query, "intent": u.intent}
        if verdict == "out_of_scope":
            text = social_text(kb) if u.social else out_of_scope_text(kb)
            return self._reply(question, "out_of_scope", prefix + text, mode="none", **common)
        if verdict == "safety":
            text = prefix + decline_text(kb, None, safety=True, topic=u.safety_topic)
            return self._reply(question, "not_in_sources", text, mode="none", **common)
        dose = is_dose_question(screened.cleaned) or u.intent == "dose"
        query = Query(u.query, question, u.follow_up, u.prior_sources)
        hits = ready.retriever.retrieve(query, u.query_vector, boost=u.prior_sources)
        seen = {h.chunk.id for h in hits}
        if u.named:  # a study the question names: all of its passages are candidates
            hits += [Hit(c, 0.0, None, None) for c in ready.chunks if c.source_id in u.named and c.id not in seen]
        elif u.intent == "article" and not u.kinds and (asks_for_its_study(u.question) or u.claim_vectors):
            # "does the study they cite for that show it?", "the blog says X, true?": every claim the article
            # gives a study for
            hits += [
                Hit(c, 0.0, None, None)
                for c in ready.chunks
                if c.source_id == "article" and c.cites and c.id not in seen
            ]
        about_the_evidence = u.intent in _ABOUT_THE_EVIDENCE
        overall = not (u.named or u.kinds or u.follow_up) and asks_overview(u.question, about_the_evidence)
        far = verdict == "answer" and not u.named and _best_similarity(u, hits, ready) < s.min_similarity
        # "is any of this actually proven?": about the evidence, naming nothing it is about, so far from every
        # passage: about all of it
        unnamed = not (u.named or u.kinds or u.follow_up or u.uncovered or u.mentioned or names_subject(u.query))
        whole_article = judges_the_whole_article(u, ready.resources.banks.thesaurus, unnamed)  # "is it overselling?"
        if verdict == "answer" and (overall or whole_article or (far and about_the_evidence and unnamed)):
            # "how good is the evidence overall?", "which studies were in people?"
            composed = overview(kb, hits, asked_population(u.question) if overall else None)
        elif verdict == "uncovered" or far:
            if verdict == "uncovered":  # name what the sources never mention, and no study as if related
                text = prefix + decline_text(kb, None, safety=False, unknown=u.uncovered)
            else:
                nearest = next((kb.by_id[h.chunk.source_id] for h in hits if h.chunk.source_id != "article"), None)
                text = prefix + decline_text(kb, nearest, safety=False)
            return self._reply(question, "not_in_sources", text, mode="none", **common)
        else:
            composed = compose(u, hits, ready.findings, ready.vectors, kb, dose=dose, max_findings=s.max_sentences)
        extractive = self._reply(
            question,
            composed.status,
            prefix + composed.text,
            citations=composed.citations,
            index_version=ready.store.version,
            mode="extractive" if composed.status == "answered" else "none",
            bottom_line=composed.bottom_line,
            certainty=composed.certainty,
            findings=composed.findings,
            **common,
        )
        return GenerationInput(
            u.query, hits, kb, ready.vectors, extractive, dose, prefix, composed.findings, composed.aside
        )


# Intents that ask about the evidence itself: with "overall" or "which of the studies", about all of it.
_ABOUT_THE_EVIDENCE = ("strength", "article", "study")


def _verdict(u: Understanding, ready: _Ready) -> str:
    """out_of_scope, safety, uncovered or answer: what the understanding means for the reply."""
    # a study asked for in a conversation about the studies is on topic, whatever it is about ("and the one with
    # chemo?")
    # so is a question quoting the article ("where does 'over 300 biochemical reactions' come from?")
    # ... and one about the evidence of all of "this" that names nothing else ("how solid is any of this?")
    # ... or asks which of "these" were done in people or animals ("which of these were in people?")
    all_of_it = u.intent in _ABOUT_THE_EVIDENCE and not (u.uncovered or u.mentioned) and about_all_of_it(u.question)
    all_of_it = all_of_it or bool(asked_population(u.question) and asks_overview(u.question, True))
    on = bool(u.named or u.describes_study or u.quotes) or all_of_it
    if not on and not on_topic(u.query, ready.topic_terms, ready.resources.common):
        return "out_of_scope"
    if u.safety_topic:
        return "safety"
    if u.uncovered and not u.named:  # about a named study, unknown words are details of the question
        return "uncovered"
    return "answer"


def _best_similarity(u: Understanding, hits: Sequence[Hit], ready: _Ready) -> float:
    """The closest retrieved sentence or finding to the query (how far the sources speak to it at all)."""
    keys = [f"{h.chunk.id}#{i}" for h in hits for i in range(len(h.chunk.sentences))]
    sims = [float(np.dot(u.query_vector, ready.vectors[k])) for k in keys if k in ready.vectors]
    found = ready.findings.similarities(u.query_vector)
    return max([*sims, *(float(x) for x in found)], default=-1.0)


def word_deltas(text: str, size: int = 6) -> Iterator[StreamEvent]:
    words = text.split(" ")
    for start in range(0, len(words), size):
        chunk = " ".join(words[start : start + size])
        yield StreamEvent("delta", chunk if start == 0 else " " + chunk)
