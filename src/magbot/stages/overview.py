"""An overview of the evidence: every study the knowledge holds, strongest first, for questions about the
evidence as a whole ("how good is the evidence overall?", "which of the studies were done on people?").

Worded from each study's evidence level and population, the way the per-answer evidence notes are, so a
study added with ``add-pubmed`` takes its place without hand editing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from magbot._models import FindingOut, Hit, Source
from magbot.index.ingest import KnowledgeBase
from magbot.stages.banks import Thesaurus
from magbot.stages.compose import DESIGN, Composed, certainty_of, citation_for, closing_notes, study_name
from magbot.stages.safety import CONDITION_TERMS
from magbot.stages.understand import ALL_ANIMALS, Understanding
from magbot.text import words

__all__ = ["about_all_of_it", "asked_population", "asks_overview", "overview"]

# The order of strength used to list the studies: designs that tested magnesium in people first.
_STRENGTH = ("meta-analysis", "rct", "cross-sectional", "other", "protocol", "review", "animal")
# A question about the studies as a whole. Loosely, "overall" or "as a whole" (which may qualify something
# else, "overall pain"), or which of them studied people or animals ("which of these studies were done on actual
# people?"; "which of them looked at nerve regrowth" asks for one), only in a question about the evidence;
# explicitly, how many of them studied people or animals, asked of the set ("how many of its refs are trials in
# people?", "out of all 9 how many were human trials?"; "how many trials in the meta-analysis were in people with
# diabetes?" asks for one study's figure), or whether it is all animal work ("is this all mice?"; "is the
# regrowth evidence only in animals?" asks about one result), or whether any of it is more than animal work
# ("is any of this proven or is it mostly rats and mice?", "how much of this is just animal studies?"; "is the
# evidence on nerve pain mostly animal work?" asks about one subject).
_WHO = r"(people|humans?|animals?|patients|rats|mice)"
# "is any of this proven?": all of what magbot covers (or the page it sits on)
_ALL_OF_IT = r"\b(any|all) of (this|it)\b"
_ALL_OF_IT_RE = re.compile(_ALL_OF_IT, re.IGNORECASE)
_LOOSE = re.compile(
    rf"\b(overall|as a whole|on the whole)\b|{_ALL_OF_IT}"
    r"|\b(which (of )?(the |these |those |its |his |her |their |your )?(studies|refs|references|sources|papers)"
    r"|which of (these|those|them)|which ones)\b"
    rf"[^?.!]{{0,40}}\b{_WHO}\W*$",
    re.IGNORECASE,
)
_EXPLICIT = re.compile(
    r"\bhow many (\w+ )?of (them|these|those|its|their|your|all|the (\d+|nine|(\w+ )?(studies|refs|references"
    r"|papers)))\b"
    rf"[^?.!]{{0,50}}\b{_WHO}"
    r"|\b(out )?of (all )?(the |these |those )?(\d+|nine)( studies| refs| references| papers| sources)?,? how many\b"
    rf"[^?.!]{{0,50}}\b{_WHO}"
    r"|\b(any|all) of (this|it)\b[^?.!]{0,60}\b(mostly|mainly|largely|all|just|only) (in |on )?(rats|mice|animals?)\b"
    r"|\bhow much of (this|it|the (evidence|research|studies))\b[^?.!]{0,30}\b(animals?|rats|mice)\b"
    r"|\b(is|was|are) (it|this|that|they|these|the (evidence|research|studies)) all (just |only )?"
    r"(in |on )?(animals?|rats|mice|lab animals|animal (stuff|studies|research))\b",
    re.IGNORECASE,
)
_WHERE = {"humans": "in people", "animals": "in animals", "none": "no new data"}
# Which of them studied one kind of subject ("which studies were done on animals rather than people?"; "which in
# people and which in animals?" asks for both): the first kind named after "which".
_WHICH_WHO = re.compile(rf"\bwhich\b[^?.!]{{0,60}}?\b{_WHO}\b", re.IGNORECASE)
_POPULATION = {"people": "humans", "human": "humans", "humans": "humans", "patients": "humans"}


def asked_population(question: str) -> str | None:
    """``humans`` or ``animals`` when a question asks which of the studies were done in that kind of subject."""
    found = list(_WHICH_WHO.finditer(question))
    if len(found) != 1:
        return None
    return _POPULATION.get(found[0].group(1).lower(), "animals")


def about_all_of_it(question: str) -> bool:
    """Whether a question speaks of all of what magbot covers as "this" or "it" ("how solid is any of this?"):
    asked about the evidence, it is on topic though it names nothing."""
    return bool(_ALL_OF_IT_RE.search(question))


def asks_overview(question: str, about_the_evidence: bool) -> bool:
    """Whether a question asks about the studies as a whole rather than one result (``about_the_evidence``:
    whether its intent is a question about the evidence, which a loose "overall" needs); a fear that it is all
    animal work counts when it names no condition or outcome ("feels like half of it is rats")."""
    feared = ALL_ANIMALS.search(question) and not set(words(question)) & CONDITION_TERMS
    return bool(_EXPLICIT.search(question) or feared or (about_the_evidence and _LOOSE.search(question)))


def judges_the_whole_article(u: Understanding, thesaurus: Thesaurus, names_nothing: bool) -> bool:
    """Whether a question judges the article as a whole ("is the article overselling it?", "how trustworthy is this
    article?"): about the article or the evidence, naming nothing it is about (``names_nothing``) and passing on
    none of its claims, so the answer is the evidence it rests on, all of it."""
    return (
        u.intent in ("article", "strength")
        and names_nothing
        and not (u.claim_vectors or u.quotes)
        and thesaurus.refers_to_article(u.question)
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def overview(kb: KnowledgeBase, hits: Sequence[Hit], population: str | None = None) -> Composed:
    """The studies of ``kb`` strongest first: how many were done in people, in animals, or have no results of
    their own, each with what it looked at and its evidence note; with ``population``, the studies done in
    that kind of subject, cited, and how many others there are."""
    studies = sorted(
        (s for s in kb.sources if s.kind == "study"),
        key=lambda s: _STRENGTH.index(s.evidence_level) if s.evidence_level in _STRENGTH else len(_STRENGTH),
    )
    if not studies:
        return Composed("not_in_sources", "The knowledge folder holds no studies to give an overview of.")
    people = [s for s in studies if s.population == "humans"]
    animals = [s for s in studies if s.population == "animals"]
    rest = len(studies) - len(people) - len(animals)
    if population is not None:
        return _of_population(studies, [s for s in studies if s.population == population], population, hits)
    bottom = (
        f"Of the {_count(len(studies), 'study', 'studies')} here, {len(people)} studied people, {len(animals)} "
        f"studied animals, and {rest} {'has' if rest == 1 else 'have'} no results of {'its' if rest == 1 else 'their'} "
        "own (reviews and trial plans)."
    )
    if people:
        best = people[0]
        on = f", on {best.findings[0].outcome}" if best.findings else ""
        strongest = f"{DESIGN[best.evidence_level]} ({study_name(best)}){on} {best.marker}"
        bottom += f" The strongest evidence in people is {strongest}."
    listed = [f"- {_line(s)}" for s in studies]
    text = f"{bottom}\n\nThe studies, strongest first:\n" + "\n".join(listed) + closing_notes(studies, False)
    return _listing(studies, text, bottom, hits)


def _of_population(studies: list[Source], chosen: list[Source], population: str, hits: Sequence[Hit]) -> Composed:
    """Which of ``studies`` were done in ``population``: those, cited, strongest first, and how many others."""
    where = _WHERE[population]
    others = len(studies) - len(chosen)
    if not chosen:
        bottom = f"None of the {_count(len(studies), 'study', 'studies')} here was done {where}."
        return Composed("answered", bottom, [], bottom, "not_studied", [])
    named = [f"{DESIGN[s.evidence_level]} ({study_name(s)}) {s.marker}" for s in chosen]
    listing = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    rest = [
        f"{n} {_WHERE[kind] if kind != 'none' else 'with no results of their own (reviews and trial plans)'}"
        for kind in ("humans", "animals", "none")
        if kind != population and (n := sum(s.population == kind for s in studies))
    ]
    bottom = (
        f"{len(chosen)} of the {_count(len(studies), 'study', 'studies')} here {'was' if len(chosen) == 1 else 'were'}"
        f" done {where}: {listing}."
    )
    if rest:
        bottom += f" The other {others}: {' and '.join(rest)}."
    listed = [f"- {_line(s)}" for s in chosen]
    text = f"{bottom}\n\nThe studies {where}, strongest first:\n" + "\n".join(listed) + closing_notes(chosen, False)
    return _listing(chosen, text, bottom, hits)


def _listing(studies: list[Source], text: str, bottom: str, hits: Sequence[Hit]) -> Composed:
    """An overview's answer: each of ``studies`` cited, with its first finding."""
    findings = [
        FindingOut(
            marker=s.marker,
            text=s.findings[0].text,
            population=s.findings[0].population,
            evidence_level=s.evidence_level,
        )
        for s in studies
        if s.findings
    ]
    citations = [citation_for(s, _passage(s, hits)) for s in studies]
    return Composed("answered", text, citations, bottom, certainty_of(studies), findings)


def _line(source: Source) -> str:
    what = source.findings[0].outcome if source.findings else source.title
    design = DESIGN[source.evidence_level]
    where = _WHERE[source.population]
    return f"{design[0].upper()}{design[1:]} ({study_name(source)}), {where}: {what} {source.marker}."


def _passage(source: Source, hits: Sequence[Hit]) -> str:
    """A retrieved passage of the study, else its title (the citation's quote)."""
    return next((h.chunk.text for h in hits if h.chunk.source_id == source.id), source.title)
