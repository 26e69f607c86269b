"""Typed records passed between pipeline stages: source -> chunk -> hit -> answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EvidenceLevel = Literal["meta-analysis", "rct", "protocol", "review", "cross-sectional", "animal", "other", "article"]
Status = Literal["answered", "not_in_sources", "out_of_scope", "urgent", "invalid"]
Population = Literal["humans", "animals", "none"]
Result = Literal["benefit", "no_difference", "association", "no_results", "mechanism", "background", "limits", "safety"]
Certainty = Literal["moderate", "low", "very_low", "not_studied"]

# Designs that gave magnesium to people and measured what followed (the top of GRADE's hierarchy here).
TESTED: tuple[str, ...] = ("meta-analysis", "rct")

EVIDENCE_LABELS: dict[str, str] = {
    "meta-analysis": "Meta-analysis",
    "rct": "Randomised trial",
    "protocol": "Trial protocol (no results)",
    "review": "Narrative review",
    "cross-sectional": "Cross-sectional study",
    "animal": "Animal study",
    "other": "Other study type",
    "article": "Consumer article",
}


class Finding(BaseModel):
    """One result of a study in plain words, with who was studied and what kind of result it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=20, max_length=600)
    population: Population
    outcome: str = Field(min_length=2, max_length=120)
    result: Result
    short: str = Field(min_length=5, max_length=240)  # completes "the study found ..."


class Source(BaseModel):
    """One knowledge file: the article or a study, with its bibliographic facts and text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^(article|ref-\d+|[a-z0-9][a-z0-9-]*)$")
    kind: Literal["article", "study"]
    title: str = Field(min_length=3)
    number: int | None = None
    authors: tuple[str, ...] = ()
    journal: str | None = None
    year: int | None = Field(default=None, ge=1800, le=2100)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^\d{1,9}$")
    pmcid: str | None = Field(default=None, pattern=r"^PMC\d+$")
    doi: str | None = Field(default=None, pattern=r"^10\.\S+/\S+$")
    study_type: str | None = None
    evidence_level: EvidenceLevel = "article"
    evidence_note: str | None = None
    population: Population = "none"
    findings: tuple[Finding, ...] = ()
    supports_article_claim: str | None = None
    key_numbers: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # names a reader may use for the source: "the back pain trial", an author
    places: tuple[str, ...] = ()  # where the study was done, as a reader may say it: "Italy", "Italian"
    studied_in: tuple[str, ...] = ()  # the condition of the people (or animals) studied: "type 2 diabetes"
    questions: tuple[str, ...] = ()  # example questions people ask that this study answers (matched by meaning)
    fetched: str | None = None  # date the record was fetched from PubMed, for studies added by PMID
    text_source: str | None = None  # where the body text comes from, when not the hand-written summary
    notes: str | None = None
    note: str | None = None
    body: str = Field(min_length=20)

    @property
    def url(self) -> str | None:
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.pmcid:
            return f"https://pmc.ncbi.nlm.nih.gov/articles/{self.pmcid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return None

    @property
    def marker(self) -> str:
        return f"[{self.number}]" if self.number is not None else "[A]" if self.kind == "article" else f"[{self.id}]"

    @property
    def label(self) -> str:
        """The source in one line: the article by its title, a study as "Authors (year). Title. Journal." """
        if self.kind == "article" or not self.authors:
            return f"The article: {self.title} (consumer-health article)"
        journal = f" {self.journal}." if self.journal else ""
        return f"{self.author_line} ({self.year or 'n.d.'}). {self.title.rstrip('.')}.{journal}"

    @property
    def author_line(self) -> str:
        names = list(self.authors)
        return ", ".join(names) if len(names) <= 6 else ", ".join(names[:6]) + ", et al."


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a passage and the sources it is evidence for (its primary sources)."""

    text: str
    supports: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of one source, with provenance."""

    id: str
    source_id: str
    section: str
    text: str
    position: int
    cites: tuple[str, ...]  # source ids the passage itself cites, e.g. ("ref-8", "ref-9")
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk retrieved for a question, with its fused rank score."""

    chunk: Chunk
    score: float
    dense_rank: int | None
    keyword_rank: int | None


class Turn(BaseModel):
    """One message of the conversation history."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class Citation(BaseModel):
    model_config = ConfigDict(frozen=True)

    marker: str
    id: str
    number: int | None
    title: str
    authors: str
    year: int | None
    journal: str | None
    pmid: str | None
    pmcid: str | None
    doi: str | None
    url: str | None
    study_type: str | None
    evidence_level: str
    evidence_label: str
    evidence_note: str | None
    quote: str
    label: str = ""  # the source named in one line, the same in every front end (Source.label)


class FindingOut(BaseModel):
    """A finding as shown in an answer: its marker, text, population and the study's evidence level."""

    model_config = ConfigDict(frozen=True)

    marker: str
    text: str
    population: Population
    evidence_level: str


class Answer(BaseModel):
    """The answer object of the contract (shared/CONTRACT.md), plus added fields."""

    question: str
    status: Status
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    disclaimer: str
    latency_ms: float = 0.0
    mode: Literal["extractive", "llm", "none"] = "extractive"
    index_version: str | None = None
    retrieval_query: str | None = None
    generated_sentences: int = 0  # sentences the model wrote (LLM mode)
    dropped_sentences: int = 0  # of those, removed by verification
    notice: str | None = None  # e.g. why a generated answer was replaced by an extractive one
    support_scores: list[float] = Field(default_factory=list)  # LLM mode: each checked sentence's best match
    bottom_line: str = ""  # the opening sentence(s) that answer the question directly (answered only)
    certainty: Certainty | None = None  # how far the cited human evidence can carry the bottom line
    findings: list[FindingOut] = Field(default_factory=list)  # the study results the answer rests on
    intent: str | None = None  # what the question was understood to ask (works, dose, safety, ...)


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: text as it is written, a replacement after checking, the final answer."""

    kind: Literal["delta", "replace", "answer"]
    text: str = ""
    answer: Answer | None = None
