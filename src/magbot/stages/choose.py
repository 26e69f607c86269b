"""Choosing the study that answers: the finding index, the fused ranking of studies, and the preference for
the strongest relevant evidence that measured what was asked (GRADE's hierarchy, and its indirectness: a
trial of something else is not a direct answer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from magbot._models import TESTED, Chunk, Finding, Hit, Source
from magbot.index.ingest import KnowledgeBase
from magbot.stages.banks import Bank
from magbot.stages.retrieve import KeywordIndex
from magbot.stages.understand import Understanding, condition_stems
from magbot.text import search_terms

__all__ = [
    "RRF_K",
    "TESTED",
    "FindingIndex",
    "by_findings",
    "measured_what_was_asked",
    "nearness",
    "preferred",
    "same_people",
    "source_ranking",
]

RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al.), here and for the order of findings


@dataclass(frozen=True)
class FindingIndex:
    """Every finding of the knowledge base with its embedding, and every sentence of the knowledge files
    with the source it is evidence for (an article sentence citing "(4)" stands for study 4). Built once."""

    items: tuple[tuple[Source, int, Finding], ...]
    vectors: np.ndarray
    sentence_sources: tuple[str, ...] = ()
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))
    asked: Bank | None = None  # each study's example questions (``questions:`` in its file), labelled by study
    # each study's words for what it measured (its findings' outcomes), less the words most studies share
    measured: dict[str, frozenset[str]] = field(default_factory=dict)
    # each study's conditions of those studied (``studied_in``), each as the stems a question must hold to name it
    conditions: dict[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    # keyword (BM25) search over each study's whole text, for a question's rarer words ("migraine")
    keywords: tuple[tuple[str, ...], KeywordIndex | None] = ((), None)
    article: tuple[Chunk, ...] = ()  # the article's passages, to find a claim of its own that a question restates
    # the article's own (uncited) sentences promising an effect no study followed ("may slow the progression of
    # neuropathy"), with their embeddings
    promises: tuple[tuple[str, np.ndarray], ...] = ()

    @classmethod
    def build(
        cls,
        items: tuple[tuple[Source, int, Finding], ...],
        finding_vectors: np.ndarray,
        chunks: Sequence[Chunk],
        vectors: dict[str, np.ndarray],
        asked: Bank | None = None,
        measured: dict[str, frozenset[str]] | None = None,
        promises_unmeasured: Callable[[str], bool] | None = None,
    ) -> FindingIndex:
        """The index for these findings and every indexed sentence, once per source it is evidence for
        (``promises_unmeasured``: whether a sentence promises an effect no study followed)."""
        sources: list[str] = []
        rows: list[np.ndarray] = []
        for chunk in chunks:
            for i, sentence in enumerate(chunk.sentences):
                vec = vectors.get(f"{chunk.id}#{i}")
                if vec is not None:
                    sources += list(sentence.supports)
                    rows += [vec] * len(sentence.supports)
        matrix = np.vstack(rows) if rows else np.zeros((0, 384), dtype=np.float32)
        conditions = condition_stems(src for src, _, _ in items)
        texts: dict[str, list[str]] = {}
        for src, _, finding in items:
            texts.setdefault(src.id, [src.body]).append(finding.text)
        ids = tuple(texts)
        keywords = (ids, KeywordIndex([" ".join(texts[i]) for i in ids]))
        article = tuple(c for c in chunks if c.source_id == "article")
        promises = tuple(
            (sentence.text, vec)
            for chunk in article
            for i, sentence in enumerate(chunk.sentences)
            if tuple(sentence.supports) == ("article",)
            and promises_unmeasured is not None
            and promises_unmeasured(sentence.text)
            and (vec := vectors.get(f"{chunk.id}#{i}")) is not None
        )
        return cls(
            items,
            finding_vectors,
            sentence_sources=tuple(sources),
            sentence_vectors=matrix,
            asked=asked,
            measured=measured or {},
            conditions=conditions,
            keywords=keywords,
            article=article,
            promises=promises,
        )

    def vector_of(self, finding: Finding) -> np.ndarray:
        return np.asarray(self.vectors[next(i for i, (_, _, f) in enumerate(self.items) if f is finding)])

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors @ vector) if len(self.items) else np.zeros(0)

    def by_questions(self, vector: np.ndarray, k: int = 3) -> list[str]:
        """Studies by how close their example questions come to this one (mean of the ``k`` nearest)."""
        if self.asked is None or not len(self.asked.labels):
            return []
        near = self.asked.nearest(vector, k)
        return sorted(near, key=lambda sid: -near[sid])

    def by_terms(self, query: str) -> list[str]:
        """Studies whose text holds the question's words, the best keyword (BM25) match first."""
        ids, keywords = self.keywords
        return [ids[i] for i, _ in keywords.ranked(query)] if keywords is not None else []

    def by_sentences(self, vector: np.ndarray) -> list[str]:
        """Sources by their sentence closest to the question."""
        if not len(self.sentence_sources):
            return []
        sims = self.sentence_vectors @ vector
        best: dict[str, float] = {}
        for sid, sim in zip(self.sentence_sources, sims, strict=True):
            best[sid] = max(best.get(sid, -1.0), float(sim))
        return sorted(best, key=lambda k: -best[k])


def by_findings(index: FindingIndex, sims: np.ndarray) -> list[str]:
    """Studies by their finding closest to the question."""
    best = nearness(index, sims, results_only=False)
    return sorted(best, key=lambda s: -best[s])


def nearness(index: FindingIndex, sims: np.ndarray, results_only: bool = True) -> dict[str, float]:
    """Each study's closest finding to the question (cosine); with ``results_only``, not its limits."""
    best: dict[str, float] = {}
    for (source, _, finding), sim in zip(index.items, sims, strict=True):
        if not (results_only and finding.result == "limits"):
            best[source.id] = max(best.get(source.id, -1.0), float(sim))
    return best


def source_ranking(u: Understanding, hits: Sequence[Hit], index: FindingIndex, sims: np.ndarray) -> list[str]:
    """Studies ordered by reciprocal rank fusion of passage retrieval, finding, sentence and example-question
    similarity, and a keyword search of each study's text. An article passage counts for the studies it cites
    (their primary source), not for the article."""
    by_hits = list(dict.fromkeys(sid for h in hits for sid in (h.chunk.cites or (h.chunk.source_id,))))
    by_finding = by_findings(index, sims)
    scores: dict[str, float] = {}
    rankings = (
        by_hits,
        by_finding,
        index.by_sentences(u.query_vector),
        index.by_questions(u.query_vector),
        index.by_terms(u.query),
    )
    for ranking in rankings:
        for rank, sid in enumerate(ranking):
            scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + rank + 1)
    # A study without example questions (one added with add-pubmed) cannot appear in the last ranking: its
    # votes are scaled to the rankings it can be in, so it is not outranked for what it lacks.
    asked = set(index.asked.labels) if index.asked is not None else set()
    if asked:
        for sid in scores:
            if sid not in asked and sid != "article":
                scores[sid] *= len(rankings) / (len(rankings) - 1)
    for rank, sid in enumerate(u.prior_sources):  # the conversation's studies get a vote of their own
        scores[sid] = scores.get(sid, 0.0) + 1.0 / (RRF_K + rank + 1)
    # only studies with a result to report can answer (one whose only finding is its limits cannot)
    reporting = {src.id for src, _, f in index.items if f.result != "limits"}
    ranked = [s for s in sorted(scores, key=lambda s: -scores[s]) if s != "article" and s in reporting]
    if u.named:
        ranked = [s for s in ranked if s in u.named] or ranked
    return ranked


# For "does it work" questions, what tested magnesium in people outranks what only discusses it (GRADE's
# hierarchy): the answer comes from a tested study among the most relevant ones.
STRONGEST_OF = 3  # how many of the most relevant studies compete on design
# A tested study takes over only if its closest finding is nearly as close to the question as the first
# study's (cosine, at most this much lower): a trial of back pain does not answer a question about ADHD
# that a review's list of conditions speaks to. Among the studies that close, the nearest answers.
# Calibrated on the dev split (637 questions): margins from 0.15 to 0.25 give the same hit rate and precision,
# 0.1 and 0.3 lose a question each; STRONGEST_OF = 2 or 4 loses 2 to 3 questions.
PREFERENCE_MARGIN = 0.2


def preferred(
    ranked: list[str],
    closest: list[str],
    kb: KnowledgeBase,
    intent: str,
    question: str,
    nearness: dict[str, float],
    index: FindingIndex,
    asked: str = "",
) -> list[str]:
    """Answer "does it work" from a study that tested magnesium in people (a trial, a meta-analysis), the
    one whose findings are nearest the question when several did (a blood-sugar meta-analysis does not answer
    a question about pain that a trial measured),
    and a question about evidence from a study that measured something, rather than from a review (which
    adds no new data; when a review ranks first, an animal or cross-sectional study that measured the thing
    outranks it too), when such a study is among the most relevant, speaks to the question nearly as
    closely (``nearness``: each study's closest finding; see ``PREFERENCE_MARGIN``), and the question does
    not itself point at the kind of study that ranks first ("is that review up to date?")."""
    if intent not in ("works", "strength", "article") or len(ranked) < 2:
        return ranked
    tested = TESTED if intent == "works" else (*TESTED, "cross-sectional")
    level = kb.by_id[ranked[0]].evidence_level

    asked_terms, question_terms = set(search_terms(asked)), set(search_terms(question))  # once, not per study

    def outcome_asked(sid: str, without: frozenset[str] = frozenset()) -> int:  # among tested studies, for any
        # question about the evidence: 2 when it measured what the asking clause names, 1 when only what the
        # story around it does
        measured = index.measured.get(sid, frozenset()) - without
        return 2 if asked_terms & measured else int(bool(question_terms & measured))

    def measures_it(sid: str, without: frozenset[str] = frozenset()) -> int:  # a study that measured what was
        # asked answers before one that did not
        return outcome_asked(sid, without) if intent == "works" else 0

    if level in tested:  # a tested study leads; another tested one whose findings are nearer may take over
        rivals = [s for s in ranked if kb.by_id[s].evidence_level in tested]
        best = max(rivals, key=lambda sid: (outcome_asked(sid), nearness.get(sid, -1.0)))
        return [best, *(s for s in ranked if s != best)]
    pool = list(dict.fromkeys(ranked[:STRONGEST_OF] + [s for s in closest[:STRONGEST_OF] if s in ranked]))
    floor = nearness.get(ranked[0], -1.0) - PREFERENCE_MARGIN  # on topic: nearly as close as the first
    candidates = [sid for sid in pool if kb.by_id[sid].evidence_level in tested and nearness.get(sid, -1.0) >= floor]
    # a study that tested magnesium in people and measured what was asked answers however it ranks
    candidates += [s for s in ranked if kb.by_id[s].evidence_level in tested and measures_it(s) and s not in candidates]
    if level == "review" and not candidates:  # a review adds no data: a study among the most relevant that
        # measured something (in animals, or a link) outranks it
        measured = ("cross-sectional", "animal")
        candidates = [
            s
            for s in ranked[:STRONGEST_OF]
            if kb.by_id[s].evidence_level in measured and nearness.get(s, -1.0) >= floor
        ]
    if intent == "works":
        # no trial in people measured it: a study that did, in animals or as a link, is the direct evidence
        # ("can magnesium help a crushed nerve heal?" is answered from the rat and mouse studies, saying so)
        observed = ("cross-sectional", "animal")
        best_measure = max((measures_it(s) for s in candidates), default=0)
        candidates = [
            s for s in ranked[:STRONGEST_OF] if kb.by_id[s].evidence_level in observed and measures_it(s) > best_measure
        ] or candidates

    def beyond_who(sid: str) -> int:  # what it measured, not who was studied ("blocked leg arteries": not "legs"),
        # unless the question names them ("leg pain from bad circulation")
        conditions = index.conditions.get(sid, ())
        named = any(c and c <= question_terms for c in conditions)
        return measures_it(sid, frozenset() if named else frozenset().union(*conditions))

    if not candidates or (level != "review" and beyond_who(ranked[0]) > max(map(measures_it, candidates))):
        return ranked  # the first study measured what was asked and no rival did: a trial plan, say, whose
        # answer is that there are no results yet, not a trial of something else
    best = max(candidates, key=lambda sid: (measures_it(sid), nearness.get(sid, -1.0)))
    return [best, *(s for s in ranked if s != best)]


def measured_what_was_asked(query: str, source: Source, index: FindingIndex) -> bool:
    """Whether an outcome the study measured shares a telling word with the question (its lay words mapped
    to the sources' words): "nerve-related back pain" answers "does it help my sciatica?" (sciatica: low back
    pain); "fasting blood sugar" does not answer "does it help diabetic neuropathy?"."""
    return bool(set(search_terms(query)) & index.measured.get(source.id, frozenset()))


def same_people(
    top: str, ranked: list[str], kb: KnowledgeBase, question: str, index: FindingIndex, near: dict[str, float]
) -> tuple[str, str] | None:
    """A trial speaks for the people it studied (GRADE's indirectness of population): when the question names a
    condition the chosen trial's people did not have ("diabetic nerve pain", answered from a back-pain trial),
    the study in people with that condition whose findings come nearest the question, nearly as near as the
    trial's (see ``PREFERENCE_MARGIN``), to show beside it, with its words for the condition named.
    Reviews and trial plans, which report no data of their own, are not shown for this."""
    terms = set(search_terms(question))

    def named(sid: str) -> str:
        source = kb.by_id[sid]
        return next(
            (
                c
                for c, stems in zip(source.studied_in, index.conditions.get(sid, ()), strict=False)
                if stems and stems <= terms
            ),
            "",
        )

    if kb.by_id[top].evidence_level not in TESTED or named(top):
        return None
    floor = near.get(top, -1.0) - PREFERENCE_MARGIN
    others = [
        (near.get(s, -1.0), s, condition)
        for s in ranked
        if s != top
        and kb.by_id[s].population == "humans"
        and kb.by_id[s].evidence_level not in ("review", "protocol")
        and near.get(s, -1.0) >= floor
        and (condition := named(s))
    ]
    if not others:
        return None
    _, best, condition = max(others)
    return best, condition
