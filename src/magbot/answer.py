"""Extractive answers: the best-supported retrieved sentences, each followed by its citation marker."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ._models import EVIDENCE_LABELS, Chunk, Citation, Hit, Sentence, Source
from .ingest import KnowledgeBase
from .text import Vocabulary, content_terms

# Question words that say nothing about *what* is asked; the rest must be found in the passages.
GENERIC = frozenset(
    content_terms(
        """magnesium mg supplement supplements supplementation nerve nerves neuropathy neuropathic pain help helps
        helpful take taking taken work works working effect effects effective benefit benefits find found
        show shows showed say says said study studies trial trials research researcher researchers evidence
        paper papers article people person patient patients use used using really much many long good better
        best bad cause causes caused reduce reduces relieve relief treat treatment improve improves mean means
        result results conclude concluded conclusion outcome know known ok okay way ways thing things need
        needed important also like does did do can could would should might may will actually true claim
        claims source sources cite cited according which kind type sort prove proves proof support supports
        back pain low fall fell drop dropped change changed last lasted lasting duration time long amount
        number size level levels rise increase decrease lower higher high big small human humans real any
        question answer explain happen happened happens show tell feet foot hand hands leg legs toe toes
        finger fingers arm arms burn burns burning tingle tingles tingling numb numbness pins needles shooting
        stabbing ache aches aching sore hurt hurts painful symptom symptoms suffer suffering"""
    )
)
# Words for a change in a measure; a question about one matches a sentence reporting any of them.
_CHANGE = frozenset(
    content_terms(
        "fall falls fell drop drops dropped decrease decreased reduce reduced reduction lower lowered "
        "decline declined improve improved improvement rise rose increase increased change changed"
    )
)


def _terms(text: str) -> set[str]:
    return {"<change>" if t in _CHANGE else t for t in content_terms(text)}


_FIGURE = re.compile(r"\d+\.\d+|\d+(\.\d+)?\s*%|\bp\s*[=<]|\b\d{2,}\b")
_DOSE_FIGURE = re.compile(r"\b\d+(\.\d+)?\s*(mg|g|ml|mmol)\b", re.IGNORECASE)

EVIDENCE_LEAD = "How strong is this evidence?"
DOSE_NOTICE = (
    "These are the amounts used in the studies, not a dose for you: magbot cannot recommend one. Ask a doctor "
    "or pharmacist before taking magnesium, especially if you have kidney problems or take other medicines."
)


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    rank: int
    index: int
    sentence: Sentence
    similarity: float
    score: float


@dataclass(frozen=True)
class Composed:
    status: str
    text: str
    citations: list[Citation] = field(default_factory=list)


def _candidates(
    hits: Sequence[Hit],
    qvec: np.ndarray,
    vectors: dict[str, np.ndarray],
    query_terms: set[str],
    dose: bool,
    numbers: bool,
    named: frozenset[str],
) -> list[Candidate]:
    out: list[Candidate] = []
    for rank, hit in enumerate(hits):
        for i, sentence in enumerate(hit.chunk.sentences):
            vec = vectors.get(f"{hit.chunk.id}#{i}")
            if vec is None or sentence.text.endswith("?") or len(sentence.text) < 25:
                continue
            sim = float(np.dot(qvec, vec))
            terms = _terms(sentence.text)
            overlap = len(terms & query_terms) / max(1, len(query_terms))
            score = sim + 0.25 * overlap + 0.02 * (len(hits) - rank) / len(hits)
            if dose and _DOSE_FIGURE.search(sentence.text):
                score += 0.2
            if numbers and _FIGURE.search(sentence.text):
                score += 0.1
                if "<change>" in terms:  # a measured result: "pain dropped from 7.5 to 4.7"
                    score += 0.15
            if named.intersection(sentence.supports):
                score += 0.12
            out.append(Candidate(hit.chunk, rank, i, sentence, sim, score))
    return out


def named_sources(question: str, kb: KnowledgeBase) -> frozenset[str]:
    """Studies the question names: by an alias from its knowledge file or the first author's surname."""
    named = set()
    for source in kb.sources:
        by_alias = any(re.search(rf"\b{re.escape(a)}\b", question, re.IGNORECASE) for a in source.aliases)
        first = source.authors[0].split()[0] if source.authors else None  # studies go by their first author
        by_author = bool(first and re.search(rf"\b{re.escape(first)}\b", question))
        if by_alias or by_author:
            named.add(source.id)
    return frozenset(named)


def coverage(question: str, hits: Sequence[Hit], vocabulary: Vocabulary) -> float:
    """Share of the question's specific terms that the retrieved passages contain."""
    salient = [t for t in content_terms(question) if t not in GENERIC]
    if not salient:
        return 1.0
    passage_terms = Vocabulary(t for h in hits for t in content_terms(h.chunk.text + " " + h.chunk.section))
    return sum(1 for t in salient if passage_terms.covers(t)) / len(salient)


def _select(cands: list[Candidate], vectors: dict[str, np.ndarray], limit: int, margin: float) -> list[Candidate]:
    ranked = sorted(cands, key=lambda c: -c.score)
    chosen: list[Candidate] = []
    best = ranked[0].score
    for cand in ranked:
        if cand.score < best - margin or len(chosen) >= limit:
            break
        vec = vectors[f"{cand.chunk.id}#{cand.index}"]
        if any(float(np.dot(vec, vectors[f"{c.chunk.id}#{c.index}"])) > 0.9 for c in chosen):
            continue
        chosen.append(cand)
    return sorted(chosen, key=lambda c: (c.rank, c.index))


def citation_for(source: Source, quote: str) -> Citation:
    return Citation(
        marker=source.marker,
        id=source.id,
        number=source.number,
        title=source.title,
        authors=source.author_line,
        year=source.year,
        journal=source.journal,
        pmid=source.pmid,
        pmcid=source.pmcid,
        doi=source.doi,
        url=source.url,
        study_type=source.study_type or "Consumer-health article",
        evidence_level=source.evidence_level,
        evidence_label=EVIDENCE_LABELS[source.evidence_level],
        evidence_note=source.evidence_note or "The article itself: no study is cited for this statement.",
        quote=quote,
    )


def compose(
    question: str,
    hits: Sequence[Hit],
    qvec: np.ndarray,
    vectors: dict[str, np.ndarray],
    kb: KnowledgeBase,
    vocabulary: Vocabulary,
    *,
    min_similarity: float,
    max_sentences: int,
    dose: bool,
    numbers: bool = False,
) -> Composed:
    """Build an answer from retrieved sentences, or say the sources do not cover the question."""
    query_terms = _terms(question)
    named = named_sources(question, kb)
    cands = _candidates(hits, qvec, vectors, query_terms, dose, numbers, named)
    about_named = [c for c in cands if named.intersection(c.sentence.supports)]
    if about_named:  # the question names a study: answer from that study
        cands = about_named
    if dose and any(_DOSE_FIGURE.search(c.sentence.text) for c in cands):
        cands = [c for c in cands if _DOSE_FIGURE.search(c.sentence.text)]
    if not cands or max(c.similarity for c in cands) < min_similarity or coverage(question, hits, vocabulary) < 0.5:
        return Composed("not_in_sources", _decline_text(hits, kb))
    chosen = _select(cands, vectors, max_sentences, margin=0.12)
    parts: list[str] = []
    quotes: dict[str, list[str]] = {}
    for cand in chosen:
        markers = []
        for sid in cand.sentence.supports:
            source = kb.by_id[sid]
            markers.append(source.marker)
            quotes.setdefault(sid, [])
            if cand.chunk.text not in quotes[sid]:
                quotes[sid].append(cand.chunk.text)
        parts.append(f"{cand.sentence.text} {''.join(markers)}")
    sources = [kb.by_id[sid] for sid in quotes]
    text = " ".join(parts) + closing_notes(sources, dose)
    citations = [citation_for(s, " … ".join(quotes[s.id])) for s in sources]
    return Composed("answered", text, citations)


def closing_notes(sources: Sequence[Source], dose: bool) -> str:
    """The paragraphs after the statements: how strong each cited source is, and the dose notice."""
    text = ""
    notes = [f"{s.marker} {s.evidence_note}" for s in sources if s.evidence_note]
    if notes:
        text += f"\n\n{EVIDENCE_LEAD} " + " ".join(notes)
    if dose:
        text += f"\n\n{DOSE_NOTICE}"
    return text


def _decline_text(hits: Sequence[Hit], kb: KnowledgeBase) -> str:
    text = (
        "The article and the 9 studies magbot draws on do not cover this question, so magbot will not guess. "
        "A doctor or pharmacist can help with it."
    )
    study = next((kb.by_id[h.chunk.source_id] for h in hits if kb.by_id[h.chunk.source_id].kind == "study"), None)
    if study is not None:
        first = study.authors[0].split()[0] if study.authors else study.title
        label = EVIDENCE_LABELS[study.evidence_level].lower()
        text += (
            f" The nearest source is {first} et al. ({study.year}), a {label} titled “{study.title}”, "
            "but it does not answer this question."
        )
    return text
