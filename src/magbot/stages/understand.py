"""Stage 2, understanding: what is asked, about what, in which conversation, and do the sources cover it?

Everything here works from the meaning of the question and from data people can edit:

- the conversation: a follow-up is folded together with the earlier questions it depends on, and keeps the
  study the user named last (else the last answer's) until it names or describes another;
- the intent (works, cause, mechanism, numbers, dose, study, strength, article, fact, safety): nearest examples
  in ``knowledge/understanding/intents.yaml``;
- coverage: the question's own subjects must be found in the knowledge files, allowing for the lay words
  of ``knowledge/understanding/thesaurus.yaml`` and for word forms (Snowball stems). Whether a word the
  knowledge never uses is a *subject* ("gabapentin", "turmeric", "chemo") or *chat* ("reckon", "legit")
  is learnt from the examples in ``knowledge/understanding/words.yaml`` (a logistic regression on the
  words' embeddings, in ``subjects.py``, with the verdicts on everyday words worked out ahead). Safety
  topics (medicines, side effects, pregnancy, children, kidneys, stopping a medicine) are covered only by a
  study finding about safety. The word-level checks, and what belongs to
  the story around a question rather than to what it asks, are in ``coverage.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import numpy as np

from magbot._models import TESTED, Source, Turn
from magbot.index.ingest import KnowledgeBase
from magbot.stages.banks import DETERMINERS, Banks, Thesaurus
from magbot.stages.coverage import (
    asked_outcome,
    asked_part,
    baseline_only,
    form_only,
    safety_topic,
    story_only,
    takes_now,
    unknown_words,
)
from magbot.stages.safety import asking_clauses, clauses, on_topic, with_its_subject
from magbot.stages.subjects import SubjectModel
from magbot.text import (
    STOPWORDS,
    CommonWords,
    Vocabulary,
    content_terms,
    english_correction,
    search_terms,
    stem,
    without_excluded,
    word_stem,
    words,
)

__all__ = [
    "ALL_ANIMALS",
    "Resources",
    "Understanding",
    "asks_for_its_study",
    "build_resources",
    "condition_stems",
    "named_sources",
    "outcome_terms",
    "understand",
]

_FOLLOW_UP = re.compile(
    r"^(and|but|so|also|what about|how about|why|how long|how many|how much|was|were|is that|did (it|they|that)"
    r"|does (it|that|this)|which|ok|okay|right|really)\b|\b(it|its|that|this|they|them|those|these|the same|there|he"
    r"|she|the study|the trial|the review|that study|this study|that trial|that one|this one)\b"
    r"|\bthen\W*$"  # "how much should I take then?"
    r"|\b(what|how) about\b"  # after a word or two: "fine but what about real people?"
    r"|\bthe (first|second|last|other|former|latter) (one|study|trial|paper)\b",  # of those named before
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[([A-Za-z0-9-]+)\]")
# "was that study in people or rats?": a follow-up that weighs alternatives about the study in hand
_WEIGHS = re.compile(r"\b(that|this|it|they|the same)\b.*\b(or|versus|vs)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Resources:
    """What understanding needs, built once per index: knowledge, banks, vocabularies, the word model."""

    kb: KnowledgeBase
    banks: Banks
    vocabulary: Vocabulary  # every word of the knowledge files (for spelling towards them)
    common: CommonWords  # everyday English words (never treated as typos)
    stems: frozenset[str]  # Snowball stems of every word of the knowledge files and their metadata
    study_stems: frozenset[str]  # stems of the studies' own text (what only a study would say)
    study_text: str  # the studies' own words, lower case, space-separated (safety terms are looked up here)
    subjects: SubjectModel
    intents: IntentModel
    measured: dict[str, frozenset[str]] = field(default_factory=dict)  # each study's words for what it measured
    outcomes: dict[str, frozenset[str]] = field(default_factory=dict)  # ... and all its outcomes' words
    # each study's conditions of those studied (``studied_in``), each as the stems a question must hold to name it
    conditions: dict[str, tuple[frozenset[str], ...]] = field(default_factory=dict)
    article_words: str = ""  # the article's text as plain words, space-padded (to find quotations in it)


_MODIFIER = re.compile(r"\b\w+-(?=\w)")  # "lower-" of "lower-back"


def outcome_terms(
    sources: Sequence[Source], expansions: Callable[[str], list[str]], every: bool = False
) -> dict[str, frozenset[str]]:
    """Each study's words for what it measured (its findings' outcomes), and the source words the thesaurus
    gives for them (as a question's lay words get theirs: "regrowth" and "grow back" meet at "regeneration").
    Magnesium, what was given, is no outcome, and a word in the outcomes of half the studies or more ("nerve")
    tells none of them apart. With ``every``, all the outcomes' words, for telling one study from another:
    "nerves" tells the nerve-test study from the blood-sugar ones."""
    terms: dict[str, set[str]] = {}
    extra: dict[str, set[str]] = {}
    for source in sources:
        for finding in source.findings:
            if finding.result != "limits":
                # a hyphened word's first part says which kind ("lower-back movement": movement of the back),
                # not what was measured: "can it lower my risk" does not ask about back movement
                heads = finding.outcome.replace("-", " ") if every else _MODIFIER.sub("", finding.outcome)
                terms.setdefault(source.id, set()).update(search_terms(heads))
                outcome = finding.outcome.replace("-", " ")
                extra.setdefault(source.id, set()).update(search_terms(" ".join(expansions(outcome))))
    # a source word that is another study's own outcome word is not added ("low back pain" does not make the
    # back pain trial a study of *low* magnesium)
    own = {sid: frozenset(t) for sid, t in terms.items()}
    for sid, added in extra.items():
        terms[sid] |= added - {t for other, mine in own.items() if other != sid for t in mine}
    counts = Counter(t for mine in terms.values() for t in mine)
    common = {t for t, n in counts.items() if n * 2 >= len(terms) and not every} | {word_stem("magnesium")}
    return {sid: frozenset(mine - common) for sid, mine in terms.items()}


def condition_stems(sources: Iterable[Source]) -> dict[str, tuple[frozenset[str], ...]]:
    """Each study's conditions of those studied (``studied_in``), each as the stems a question must hold to
    name it; studies with none are left out."""
    return {s.id: tuple(frozenset(search_terms(c)) for c in s.studied_in) for s in sources if s.studied_in}


def build_resources(
    kb: KnowledgeBase,
    banks: Banks,
    cache_dir: Path | None = None,
    *,
    embed: Callable[[Sequence[str]], np.ndarray] | None = None,
    model: str = "",
    table_dir: Path | None = None,
) -> Resources:
    """What understanding needs; with ``embed``, the verdicts on common words are worked out (or read from
    ``table_dir``) too (``SubjectModel``)."""
    meta = [" ".join([s.title, *s.authors, *s.aliases, s.journal or "", s.study_type or ""]) for s in kb.sources]
    finding_text = [f.text + " " + f.outcome for s in kb.sources for f in s.findings]
    every = " ".join([s.body for s in kb.sources] + meta + finding_text)
    studies = " ".join([s.body for s in kb.sources if s.kind == "study"] + finding_text)
    all_words = set(words(every))
    common = CommonWords.load(cache_dir)
    english_correction("magnesum")  # load the spelling dictionary now, not in the first questions' threads
    asked = set(words(" ".join(q for s in kb.sources for q in s.questions)))  # covered by definition (not spelling)
    return Resources(
        kb=kb,
        banks=banks,
        vocabulary=Vocabulary(
            all_words | {stem(w) for w in all_words}, common, lay=(w for w in banks.thesaurus.key_words if w.isalpha())
        ),
        common=common,
        stems=frozenset(word_stem(w) for w in all_words | asked),
        study_stems=frozenset(word_stem(w) for w in words(studies)),
        study_text=f" {' '.join(words(studies))} ",
        subjects=SubjectModel(banks, cache_dir, embed=embed, model=model, common=common, table_dir=table_dir),
        intents=IntentModel(banks),
        measured=outcome_terms(kb.sources, banks.thesaurus.expansions),
        outcomes=outcome_terms(kb.sources, banks.thesaurus.expansions, every=True),
        conditions=condition_stems(kb.sources),
        article_words=f" {plain(' '.join(s.body for s in kb.sources if s.kind == 'article'))} ",
    )


@dataclass(frozen=True)
class Understanding:
    """A question as magbot understood it."""

    question: str  # as typed (normalised)
    query: str  # what retrieval searches for: the question with what it depends on and source words added
    follow_up: bool
    prior_sources: tuple[str, ...]  # sources cited earlier in the conversation, most recent first
    named: frozenset[str]  # sources the question (or the conversation it continues) names
    intent: str
    intent_scores: dict[str, float]
    vector: np.ndarray  # the question's embedding (for intent, and emergencies by meaning: see ``urgency_vector``)
    query_vector: np.ndarray  # the resolved question's embedding (for retrieval and composing)
    focus_vector: np.ndarray  # the question without the study's name (to choose among that study's findings)
    uncovered: tuple[str, ...]  # the question's subjects the knowledge never mentions
    safety_topic: str | None  # a safety topic the sources do not cover
    mentioned: tuple[str, ...] = ()  # subjects the knowledge never mentions that an answer should name
    safety_aside: str | None = None  # a safety topic in a question about what a named study did
    kinds: frozenset[str] = frozenset()  # evidence levels the question points at ("the review", "that rat study")
    in_people: bool = False  # a follow-up asking for the conversation's subject tested in people ("and in humans?")
    like: str | None = None  # ... the conversation's study it asks to see matched ("anything like that in people?")
    # what the question's asking clauses say, with their source words, when a story comes before them ("my
    # feet burn at night. can magnesium help nerves regrow?" asks about regrowth, not burning feet)
    asked: str = ""
    # what the question names, for matching what studies measured: its words less the lay phrases the thesaurus
    # translates, and the source words for them ("a dummy sugar pill" is a placebo, not blood sugar)
    named_terms: str = ""
    quotes: tuple[str, ...] = ()  # words the question quotes from the article ("'extensive clinical studies'")
    describes_study: bool = False  # a follow-up asking for another study by what it is about ("and the chemo one?")
    reports_claim: bool = False  # passes on a claim read or heard ("apparently ...", "I read that ...")
    # says magnesium changes something ("magnesium cured his sciatica"): a claim of an effect, whatever is asked
    claims_effect: bool = False
    social: bool = False  # only small talk: a greeting, thanks or goodbye ("ok thanks", "cool, cheers")
    # what magnesium is weighed against that no source mentions ("better than my amitriptyline")
    compared: tuple[str, ...] = ()
    # the safety aside is one no study here reports on at all (side effects), not a detail of what one did
    aside_unreported: bool = False
    # embeddings of what the question passes on as claimed ("the blog says X, true?": X), to match the article's
    # sentences to the claim itself rather than to the whole question
    claim_vectors: tuple[np.ndarray, ...] = ()
    # the question's words that are neither everyday English nor figures ("NMDA", "sciatic"), as search terms:
    # they say what it is about more surely than the embedding of the whole question does
    uncommon: frozenset[str] = frozenset()
    # asks for an effect no study here measured ("can it reverse my neuropathy?"; ``unmeasured_words``)
    unmeasured: bool = False
    # what the emergency check reads: the question, a follow-up's "it" read as magnesium ("can I take it with my
    # gabapentin?" is a question about magnesium and a medicine, not about a pile of tablets); None: ``vector``
    told_vector: np.ndarray | None = None

    @property
    def urgency_vector(self) -> np.ndarray:
        return self.vector if self.told_vector is None else self.told_vector


# A study by the number the answers and the article give it: "ref 7", "reference (number 7)", "footnote 9",
# "paper 5", "[7]"; not a count or an amount after it ("a study 2 years ago", "study 1 mg")
_BY_NUMBER = re.compile(
    r"(?:\b(?:refs?|references?|citations?|sources?|study|papers?|footnotes?)\s*\(?\s*(?:no\.?|number|#)?\s*|\[)"
    r"(\d{1,3})\b(?!\s*(?:%|mg|years?|yrs?|months?|weeks?|days?|people|patients|trials?|studies)\b)",
    re.I,
)


_ACRONYM = re.compile(r"[A-Z]{2,6}")


def named_sources(text: str, kb: KnowledgeBase, thesaurus: Thesaurus | None = None) -> frozenset[str]:
    """Studies a text names: by an alias from its knowledge file (in any word form: "artery" names
    "arterial"; in lay words just after a word for research; one in capitals, "PAD", only as written), by the
    first author's surname, by the number the answers show ("ref 7", "[7]"), or by where it was done when the
    text speaks of research ("the Italian trial"; see ``by_place``)."""
    text = without_excluded(text)
    stems = _stems_of(text)
    said = search_terms(text)  # for titles
    numbers = {int(n) for n in _BY_NUMBER.findall(text)}
    named = {s.id for s in kb.sources if s.number is not None and s.number in numbers}
    lay = [_stems_of(x) for x in thesaurus.expansions(_describing(text, thesaurus))] if thesaurus else []
    for source in kb.sources:
        # an acronym in capitals ("PAD") names the study only in capitals, not as the word ("a heat pad")
        acronyms = [a for a in source.aliases if _ACRONYM.fullmatch(a)]
        aliases = [_alias_stems(a) for a in source.aliases if a not in acronyms]
        by_alias = any(a.strip() and (a in stems or any(a in x for x in lay)) for a in aliases) or any(
            re.search(rf"\b{a}\b", text) for a in acronyms
        )
        first = source.authors[0].split()[0] if source.authors else None  # studies go by their first author
        by_author = bool(first and re.search(rf"\b{re.escape(first)}\b", text, re.IGNORECASE))
        by_title = thesaurus is not None and _by_title(source.title, said, thesaurus.research_words)
        if by_alias or by_author or by_title:
            named.add(source.id)
    placed = by_place(text, kb, thesaurus) if thesaurus else frozenset()
    if placed and named:  # "the Chinese rat study": the place narrows what the other names leave open
        return frozenset(named & placed) or frozenset(named)
    return frozenset(named | placed)


def _describing(text: str, thesaurus: Thesaurus, span: int = 5) -> str:
    """The few words after each word for research, which say what that research was ("the study on diabetics'
    nerve tests"): their lay words name a study by its aliases, where the same words elsewhere in a question
    ("sciatica for months ... that wire study") describe the asker."""
    said = words(text)
    return " | ".join(" ".join(said[i + 1 : i + 1 + span]) for i, w in enumerate(said) if w in thesaurus.research_words)


def _stems_of(phrase: str) -> str:
    """A phrase as space-padded stems ("back-pain trials" is " back pain trial "), for finding names in text."""
    return " " + " ".join(word_stem(w) for w in words(phrase.replace("-", " "))) + " "


@lru_cache(maxsize=1024)
def _alias_stems(alias: str) -> str:
    """A study's name as stems, worked out once (the question's own text is never kept in this cache)."""
    return _stems_of(alias)


@lru_cache(maxsize=256)
def _title_terms(title: str) -> tuple[str, ...]:
    return tuple(search_terms(title))


def _by_title(title: str, said: list[str], research_words: frozenset[str]) -> bool:
    """Whether a text refers to a study by its title: the title's content words in order, next to a word
    for research ("the 'diabetic neuropathy and nerve regeneration' paper", "the magnesium prevention &
    therapy review"). A question that only shares the words ("does magnesium help nerve regeneration?")
    does not."""
    wanted = list(_title_terms(title))
    n = len(wanted)
    if n < 3 or not set(wanted) <= set(said):
        return False
    research = {word_stem(w) for w in research_words}
    for i in range(len(said) - n + 1):
        if said[i : i + n] == wanted:
            around = said[max(0, i - 1) : i] + said[i + n : i + n + 1]
            if set(around) & research:
                return True
    return False


def _by_title_word(text: str, kb: KnowledgeBase, thesaurus: Thesaurus) -> frozenset[str]:
    """The one study whose title alone has a word the text (or its source words) says: "the one with the wire"
    is the magnesium wire study."""
    said = set(search_terms(f"{text} {' '.join(thesaurus.expansions(text))}"))
    titles = {s.id: set(_title_terms(s.title)) for s in kb.sources if s.kind == "study"}
    found = {
        sid for sid, mine in titles.items() if said & (mine - set().union(*(t for o, t in titles.items() if o != sid)))
    }
    return frozenset(found) if len(found) == 1 else frozenset()


def by_place(text: str, kb: KnowledgeBase, thesaurus: Thesaurus) -> frozenset[str]:
    """The studies done where the text says, when it speaks of research ("the Egyptian trial", "that study
    from Taiwan"). When several were done there, the design words pick ("trial" over "review"), if they can,
    then the condition of those studied ("the Chinese diabetes study", not the Chinese rat study)."""
    research, levels = thesaurus.research_in(text)
    if not research:
        return frozenset()
    said = {w.lower() for w in words(text)}
    there = [s for s in kb.sources if said & {p.lower() for p in s.places}]
    fitting = [s for s in there if s.evidence_level in levels] or there
    stems = _stems_of(text)
    in_them = [s for s in fitting if any(_alias_stems(c) in stems for c in s.studied_in)]
    return frozenset(s.id for s in (in_them or fitting))


def _without_names(question: str, named: frozenset[str], kb: KnowledgeBase) -> str | None:
    """The question with the names of the studies it names taken out, or None if it names none."""
    text = question
    for sid in named:
        source = kb.by_id[sid]
        first = source.authors[0].split()[0] if source.authors else ""
        for name in sorted([*source.aliases, *source.places, first], key=len, reverse=True):
            if name:
                text = re.sub(rf"\b{re.escape(name)}\b", " ", text, flags=re.IGNORECASE)
    text = " ".join(text.split())
    return text if text != question and any(ch.isalpha() for ch in text) else None


def _says_what(text: str | None, research: frozenset[str] = frozenset()) -> bool:
    """Whether what is left of a question, once the study's name is out, still says what it wants to know
    ("by how much did pain fall" does; "what did the find" does not: then the study's main result leads).
    Words for research itself ("what did the trial find") say nothing about what is wanted."""
    if text is None:
        return False
    return len(content_terms(" ".join(w for w in words(text) if w not in research))) >= 2


def _depends(question: str) -> bool:
    content = [w for w in words(question) if w not in STOPWORDS]
    return bool(_FOLLOW_UP.search(question)) or len(content) <= 3


def _cited(text: str, kb: KnowledgeBase) -> list[str]:
    by_marker = {s.marker: s.id for s in kb.sources}
    return [by_marker[f"[{m}]"] for m in _MARKER.findall(text) if f"[{m}]" in by_marker]


# A follow-up that says which study it means by its subject or kind: "the blood sugar one", "the one about
# nerve function", "the animal studies", "what did the review say" (not "the same study", "the first one").
_DESCRIBES = re.compile(
    r"\bthe (?!same\b|first\b|second\b|last\b|other\b|latter\b|former\b)(?:[a-z0-9-]+ ){1,3}"
    r"(?:one|ones|study|studies|paper|papers|review|trial|trials|experiment)\b"
    r"|\bthe (?:one|ones|study|paper|review|trial) (?:about|on|with|where|that|in|from)\b"
    r"|\b(?:the|that) (?:review|meta-analysis|protocol|survey)\b"
    r"|\bthe other (?:one|ones|study|studies|paper|review|trial|experiment) (?:about|on|with|where|that|in|from)\b"
    r"|\b(?:is|was) there (?:a |an |any )?(?:other |another )?(?:one|ones|study|studies|trial|paper|experiment)"
    r" (?:where|that|with|about|on|in)\b",
    re.IGNORECASE,
)


def _named_earlier(history: Sequence[Turn], kb: KnowledgeBase, thesaurus: Thesaurus) -> list[str]:
    """The studies the user's earlier messages named, the latest first."""
    out: list[str] = []
    for turn in reversed(history):
        if turn.role == "user":
            out += [s for s in sorted(named_sources(turn.content, kb, thesaurus)) if s not in out and s != "article"]
    return out


def _first_studies(history: Sequence[Turn], kb: KnowledgeBase, thesaurus: Thesaurus) -> list[str]:
    """The studies the conversation started with: those the first message naming any named, else the first
    answer's citations ("in that first study ...", "going back to my first question ...")."""
    for turn in history:
        if turn.role == "user" and (named := named_sources(turn.content, kb, thesaurus) - {"article"}):
            return sorted(named)
        if turn.role == "assistant" and (cited := [s for s in _cited(turn.content, kb) if s != "article"]):
            return cited[:1]
    return []


def resolve(question: str, history: Sequence[Turn], kb: KnowledgeBase) -> tuple[str, bool, tuple[str, ...]]:
    """(query text, is a follow-up, sources cited earlier) for a question in a conversation."""
    users = [t.content for t in history if t.role == "user"]
    if not users or not _depends(question):
        return question, False, ()
    chain = [question]
    for earlier in reversed(users[-3:]):  # back to the question the thread started from
        chain.insert(0, earlier)
        if not _depends(earlier):
            break
    prior: list[str] = []
    for turn in reversed(history):
        if turn.role == "assistant":
            prior += [s for s in dict.fromkeys(_cited(turn.content, kb)) if s not in prior and s != "article"]
    return " ".join(c.strip() for c in chain), True, tuple(prior)


# A question asking for the study the article gives for its claim ("does the study they cite show it?", "which
# paper is that?"): the claim is one the article cites a study for. ("Based on what?" and "what research is
# that?" ask whether it has one: "recent research has revealed ..." is the article's own claim.)
_WHICH_STUDY = r"\b(which|what)('s| is| was| are)? (the )?(study|studies|paper|papers|trial|ref|reference|source)\b"
_ASKS_FOR_ITS_STUDY = re.compile(
    rf"\b(cite[sd]?|citing|referenc(e|es|ed|ing)|links? to|linked|point(s|ed)? to)\b|{_WHICH_STUDY}", re.IGNORECASE
)
# ... asked for in so many words (not "linked", which a claim passed on may say: "low magnesium is linked to X"),
# or as its source: "is that what their source actually found?" (a question about the claim, whichever sentence
# of the article gives the study)
_ASKS_WHICH_STUDY = re.compile(rf"{_WHICH_STUDY}|\b(their|its) (sources?|references?)\b", re.IGNORECASE)


# ... but asking whether there is one at all does not take a study for granted ("is that referenced?", "do they
# cite anything?"): the claim may be the article's own
_ASKS_WHETHER_CITED = re.compile(
    r"\b(is|was|are|were) (it|that|this|they|those|these)( \w+)? (referenced|cited|sourced)\b"
    r"|\b(cite[sd]?|referenc(e|es|ed)) (anything|any\b|a source|a study|sources)",
    re.IGNORECASE,
)


def asks_for_its_study(question: str) -> bool:
    """Whether a question asks for the study the article gives for a claim (see ``_ASKS_FOR_ITS_STUDY``)."""
    return bool(_ASKS_FOR_ITS_STUDY.search(question)) and not _ASKS_WHETHER_CITED.search(question)


class IntentModel:
    """What a question asks: the intent whose three nearest examples (intents.yaml) are closest on average.

    (A logistic regression on the same examples was tried and read more questions as "does it work";
    the nearest-example vote kept questions about mechanisms and links apart better on the dev split.)
    """

    def __init__(self, banks: Banks) -> None:
        self._bank = banks.intents
        self._thesaurus = banks.thesaurus

    def classify(self, vector: np.ndarray, query: str) -> tuple[str, dict[str, float]]:
        """The likeliest intent; "article" only when the question refers to the article at all (``article_words``)."""
        scores = self._bank.nearest(vector, k=3)
        # ... or passes on a claim and asks for its study ("they say X. which study is that from?"): the claims
        # magbot can look up are the article's
        which_study = bool(_ASKS_WHICH_STUDY.search(query))
        mentions_article = self._thesaurus.refers_to_article(query) or (
            which_study and self._thesaurus.reports_claim(query)
        )
        allowed = [k for k in scores if k != "article" or mentions_article]
        best = max(allowed, key=lambda k: scores[k])
        # "the blog says X, is that true?", "it says magnesium eases pain, is that backed up?": about the article
        # ... and "the bit about NMDA, what's the source for that?" asks for the article's study for its claim
        if mentions_article and (
            best in ("fact", "works", "strength", "cause", "dose", "numbers")
            or asks_for_its_study(query)
            or which_study
        ):
            best = "article"
        return best, scores


# A follow-up asking for evidence in people ("and in humans?") rather than whether the study in hand was ("was
# it in people?").
_IN_PEOPLE = re.compile(
    r"\b(in|on|with) (any )?(actual |real |living )?(humans?|people|patients)\b"
    r"|\babout (actual |real |living )?(humans?|people|patients)\b(?! (with|who|that|having)\b)"
    r"|\bhuman (studies|study|trials?|evidence|data)\b",
    re.IGNORECASE,
)
_ANOTHER = re.compile(r"\b(another|other|instead|different|else)\b", re.IGNORECASE)
_SAME_ONE = re.compile(
    r"\b(was|were|is|are|did)\s+((any|either|both|all|each|one) of\s+)?(it|that|this|they|them|those|these)\b",
    re.IGNORECASE,
)
# "the first one", "the former": the first of the studies the conversation named.
_FIRST_ONE = re.compile(
    r"\b(the|that|this|your|my) (very )?first (one|study|trial|paper|question|message|answer|thing)\b|\bthe former\b",
    re.IGNORECASE,
)
# ... unless it asks for more of it ("did they try it in people too?")
_ALSO = re.compile(r"\b(too|also|as well|either(?! of)|ever)\b", re.IGNORECASE)
# A follow-up asking for evidence in animals ("did they try it in animals too?", "which animals then?").
_IN_ANIMALS = re.compile(
    r"\b(in|on|with) (lab )?(animals?|rats?|mice|mouse|rodents?)\b|\b(which|what) (kinds? of )?(animals?|rodents?)\b",
    re.IGNORECASE,
)


_PEOPLE = re.compile(r"\b(humans?|people|persons?|patients)\b", re.IGNORECASE)
# How much of the evidence is feared to be animals: "all mice", "only from rats", "half of it is rats".
ALL_ANIMALS = re.compile(
    r"\b(all|only|just|half|mostly|mainly|purely|entirely)\b(\s+(of\s+it|it|is|are|from|in|on|this|that|these"
    r"|just|done|the)){0,4}\s+(mice|mouse|rats?|animals?|rodents?)(\s+(and|or|&)\s+(mice|mouse|rats?|animals?"
    r"|rodents?))?(\s+(studies|study|experiments?|research|stuff|work|trials?))?\b",
    re.IGNORECASE,
)


def _without_bare_animals(question: str, thesaurus: Thesaurus) -> str:
    """The question less the animals it speaks of as a kind of evidence ("is it proven in people or only in
    rats?"), keeping those that name a study: next to a word for research or after a determiner ("the mouse
    study", "those rat experiments", "that rat one")."""
    animals = thesaurus.design_words.get("animal", frozenset()) - thesaurus.research_words
    said = question.split()
    kept = []
    for i, token in enumerate(said):
        word = re.sub(r"[^a-z]", "", token.lower())
        around = {re.sub(r"[^a-z]", "", w.lower()) for w in said[max(0, i - 1) : i + 3]} - {word}
        named = around & (thesaurus.research_words | DETERMINERS)
        kept.append("" if word in animals and not named else token)
    return " ".join(kept)


def understand(
    question: str,
    history: Sequence[Turn],
    res: Resources,
    embed: Callable[[Sequence[str]], np.ndarray],
) -> Understanding:
    """Resolve the question against the conversation, embed it once, and read its intent and coverage."""
    thesaurus = res.banks.thesaurus
    social = thesaurus.is_social(question)
    # small talk ("ok thanks") is not a follow-up that repeats the answer; "changing subject, ..." starts afresh
    whole = question  # the emergency check reads all of a message that announces a new subject part way
    if (fresh := thesaurus.new_subject(question)) is not None:
        question = fresh
    alone = social or fresh is not None
    resolved, follow_up, prior = (question, False, ()) if alone else resolve(question, history, res.kb)
    in_people = describes = False
    like: str | None = None
    kept: str | None = None  # the conversation's study, kept for a follow-up that names none
    back = False  # the follow-up points back to the study the conversation started with
    named_now = named_sources(question, res.kb, thesaurus)
    if named_now and _PEOPLE.search(question):  # "only shown in rats and mice, never in people?" names no study
        named_now = named_sources(_without_bare_animals(question, thesaurus), res.kb, thesaurus)
    if named_now and (doubt := ALL_ANIMALS.search(question)):
        # "is this all just mouse and rat studies?", "feels like half of it is rats": animals as the kind the
        # evidence is feared to be, not a study named
        named_now = named_sources(question[: doubt.start()] + " " + question[doubt.end() :], res.kb, thesaurus)
    if named_now and follow_up and prior and (weighs := _WEIGHS.search(question)):
        # "rats" there is one of two answers asked about, not a new study named; a study named before the
        # alternatives is the one asked about ("was that tested in the back pain patients or just theory?")
        named_now = named_sources(question[: weighs.start(2)], res.kb, thesaurus)
    # the kinds of study asked about, less those ruled out ("in people, not animals" asks for no animal study)
    levels = thesaurus.research_in(without_excluded(question))[1] if follow_up else frozenset()
    earlier = [*_named_earlier(history, res.kb, thesaurus), *prior]  # the conversation's studies, latest first
    # "does that review mention it?" is the conversation's review; "is there one where they fed them instead?"
    # asks for another one
    fitting = [s for s in dict.fromkeys(earlier) if res.kb.by_id[s].evidence_level in levels]
    fitting = [] if _ANOTHER.search(question) else fitting
    if named_now:  # the question names its study, or moves to one of its own ("what about in mice?")
        named = named_now
        prior = tuple(s for s in prior if s in named_now)
    elif follow_up and _FIRST_ONE.search(question) and (first := _first_studies(history, res.kb, thesaurus)):
        named, prior, kept, back = frozenset(first), tuple(first), first[0], True  # "in that first one, ...?"
    elif fitting:  # "does that review mention magnesium?": the conversation's review
        named, prior = frozenset(fitting[:1]), tuple(fitting[:1])
    elif follow_up and _DESCRIBES.search(question):
        # "and the blood sugar one?", "what about the animal studies": another study, by what it is about
        kinds = frozenset(s.id for s in res.kb.sources if s.evidence_level in levels)
        if _ANOTHER.search(question):  # "is there another trial ...": not the one in hand
            kinds = kinds - set(earlier[:1]) or kinds
        named, prior, resolved, describes = kinds or _by_title_word(question, res.kb, thesaurus), (), question, True
    elif (
        follow_up
        and _IN_PEOPLE.search(question)
        and (not _SAME_ONE.search(question) or _ALSO.search(question))
        and not _IMPLIES.search(question)  # "does that mean it would do the same in people?": the study in hand
    ):
        # "and in humans?", "has anyone tried that on people?": the conversation's subject, tested in people
        named, prior, in_people, like = frozenset(), (), True, earlier[0] if earlier else None
    elif follow_up and _IN_ANIMALS.search(question) and (not _SAME_ONE.search(question) or _ALSO.search(question)):
        # "did they try it in animals too?" after a trial in people: the animal studies
        named, prior, resolved = frozenset(s.id for s in res.kb.sources if s.evidence_level == "animal"), (), question
    elif follow_up and earlier:  # "how long did it last?": the study the user named last, else the last answer's
        named, kept = frozenset(earlier[:1]), earlier[0]
    elif follow_up:
        named = named_sources(resolved, res.kb, thesaurus)
    else:
        named = frozenset()
    fixed = res.vocabulary.correct_text(resolved, keep=res.banks.thesaurus.ignore)
    own_fixed = fixed if resolved == question else res.vocabulary.correct_text(question, keep=thesaurus.ignore)
    extra = thesaurus.expansions(without_excluded(fixed))  # no source words for what is ruled out
    query = fixed + (" " + " ".join(extra) if extra else "")
    names, unknown = unknown_words(question, res)
    own = [question] if fixed == question else [question, fixed]  # lay-word expansions are for keywords only
    focus = _without_names(question, named_now, res.kb)
    says_what = _says_what(focus, thesaurus.research_words)
    if focus and says_what:  # embedded only when it says what is wanted: else it would not be used
        own.append(focus)
    reported = thesaurus.reported_claims(clauses(question))  # "the blog says X": X
    # in a chat about a study (one named, or cited last), "they" are its patients
    told = with_its_subject(question, about_study=bool(named or earlier)) if follow_up else whole
    extra_told = [told] if told != question else []
    # one call to the model for everything this question needs
    to_judge = [w for w in unknown if w not in res.subjects.known]  # everyday words were judged ahead
    vectors = embed([*own, *to_judge, *reported, *extra_told])
    told_vector = vectors[-1] if extra_told else None
    vectors = vectors[: len(vectors) - len(extra_told)]
    claim_vectors = tuple(vectors[len(vectors) - len(reported) :]) if reported else ()
    vectors = vectors[: len(vectors) - len(reported)]
    vector, query_vector = vectors[0], vectors[1 if fixed != question else 0]
    focus_vector = vectors[len(own) - 1] if focus and says_what else query_vector
    if named_now and not says_what:
        focus_vector = np.zeros_like(query_vector)  # nothing to choose by: the file's order (main result first)
    intent, scores = res.intents.classify(vector, fixed)  # the words as said, not their expansions
    # "is that paper an actual trial?", after the article's study was named: about that study, not the article
    # the chat began with
    in_hand = follow_up and named and not named_now and not thesaurus.refers_to_article(question)
    if intent == "article" and in_hand and thesaurus.research_in(question)[0] and not asks_for_its_study(question):
        intent = max((k for k in scores if k != "article"), key=lambda k: scores[k])
    quotes = _article_quotes(question, res.article_words)
    if quotes and not named_now and intent in _CLAIM_CHECKS:
        intent = "article"  # "it says 'without the dangers', true?" quotes the article: a question about its claim
    if (
        kept
        and not back
        and (
            (intent in _ASKS_FOR_EVIDENCE and _moves_on(own_fixed, kept, res, intent == "works"))
            or _other_people(own_fixed, kept, res, thesaurus)
        )
        and on_topic(own_fixed, common=res.common)
    ):
        # "what about the blood sugar side, does it bring sugar down?" after the nerve-test study, or "and for
        # diabetics?" after the back pain trial: the question's own subject, from whichever study measured it
        # (a subject of magbot's: "was that idea tested in people?" moves nowhere)
        named, prior, fixed, query_vector = frozenset(), (), own_fixed, vector
        extra = thesaurus.expansions(without_excluded(fixed))
        query = fixed + (" " + " ".join(extra) if extra else "")
    judged = dict(zip(to_judge, res.subjects.is_subject(vectors[len(own) :]), strict=True))
    verdicts = [res.subjects.known[w] if w in res.subjects.known else judged[w] for w in unknown]
    wanted = asked_outcome(question, thesaurus.outcome_words)
    subjects = (*names, *(w for w, yes in zip(unknown, verdicts, strict=True) if yes or w == wanted))
    mentioned: tuple[str, ...] = ()
    compared = subjects if subjects and baseline_only(question, subjects) else ()
    if subjects and (compared or story_only(question, subjects, unknown, thesaurus) or form_only(question, subjects)):
        subjects, mentioned = (), subjects
    asking = asking_clauses(question)  # what the question asks, less the story around it
    asks_own_case = bool(_PERSONAL.search(asking))  # "is it ok for me ...", "with my pills"
    # in a chat about a study, a follow-up is about that study as one naming it is ("what about at 3 months?",
    # "so did they find people needed less oxycodone?"), unless it speaks of the asker's own case at all ("so can
    # i take it with my gabapentin then")
    in_study_chat = follow_up and bool(named) and not _PERSONAL.search(question)
    topic = safety_topic(question, intent, res, (bool(named_now) and not asks_own_case) or in_study_chat)
    aside = None
    own_case = topic not in thesaurus.asked_only_topics and asks_own_case
    if topic and named_now and thesaurus.research_in(question)[0] and not own_case:
        # "did people in that trial come off their other meds?" asks what the study did: answered, with the
        # pointer to a pharmacist for the reader's own case; "is it ok with my lyrica? the trial had people on
        # it" asks about the reader's own case
        topic, aside = None, topic
    elif topic in thesaurus.article_claim_topics and intent == "article" and not subjects and not asks_own_case:
        # "the blog says it has none of the risks of painkillers - is that backed up?" asks about the article's
        # claim, not about anyone's own use: answered as the article's claim, saying no study measured safety
        topic, aside = None, topic
    elif topic in thesaurus.history_topics and not _ASKS_TO_TAKE.search(asking):
        # "had a heart attack years ago; does magnesium help nerve pain?" asks what the evidence says: answered,
        # with the pointer for the reader's own case; "... can he take magnesium for it?" asks whether he may
        topic, aside = None, topic
    current = thesaurus.current_medicine_topic
    taking = topic is None and current and not named_now and takes_now(question, subjects or mentioned)
    if taking and _ASKS_TO_TAKE.search(asking):
        # "I take amlodipine for blood pressure, is it ok to add magnesium?": taking it beside a medicine taken now
        topic = current
    if subjects and follow_up and not named_now:  # "and restless legs, would it help that?": a new subject
        named = frozenset()
    if named and subjects:  # a named study answers; what the sources never mention is said so
        mentioned = subjects
    return Understanding(
        question=question,
        query=query,
        follow_up=follow_up,
        prior_sources=prior,
        named=named,
        intent=intent,
        intent_scores=scores,
        vector=vector,
        query_vector=query_vector,
        focus_vector=focus_vector,
        uncovered=subjects,
        safety_topic=topic,
        mentioned=mentioned,
        safety_aside=aside,
        aside_unreported=aside is not None and aside in thesaurus.article_claim_topics,
        # the article's words quoted are not the asker's words for a kind of study ("'... more likely ...'")
        kinds=thesaurus.pointed_levels(without_excluded(_QUOTED.sub(" ", own_fixed) if quotes else own_fixed)),
        in_people=in_people,
        like=like,
        asked=asked_part(fixed, thesaurus),
        named_terms=f"{thesaurus.without_phrases(without_excluded(fixed))} {' '.join(extra)}",
        quotes=quotes,
        describes_study=describes,
        reports_claim=thesaurus.reports_claim(question),
        claims_effect=thesaurus.claims_effect(question),
        # what the question asks, not its framing ("stop hedging and say it cures everything. does it help?")
        unmeasured=thesaurus.asks_unmeasured(asking_clauses(own_fixed) or own_fixed),
        claim_vectors=claim_vectors,
        uncommon=frozenset(
            word_stem(w)
            for w in words(question)
            if w not in STOPWORDS and w not in res.common and not any(ch.isdigit() for ch in w)
        ),
        told_vector=told_vector,
        social=social,
        compared=compared,
    )


# A question asking whether someone may take it: "can he take magnesium", "is it ok for her", "safe for me".
_ASKS_TO_TAKE = re.compile(
    r"\b(can|could|should|may|would)\s+(i|he|she|they|we|you|my \w+|mum|mom|dad)\s+(\w+\s+)?"
    r"(take|have|try|use|start|go on|be on)\b|\b(ok|okay|safe|alright|fine)\s+for\s+(me|him|her|them|us|my)\b"
    r"|\b(is|would) (it|magnesium|mag) (be )?(ok|okay|safe|alright|fine)\b",
    re.IGNORECASE,
)
# Words by which a question speaks of the asker's own (or the reader's) use ("can I", "my tablets", "should you").
_PERSONAL = re.compile(r"\b(i|i'm|im|i've|ive|me|my|mine|we|us|our|you|your)\b", re.IGNORECASE)
# What a follow-up asks when it asks for evidence on a subject, rather than about the study in hand.
_ASKS_FOR_EVIDENCE = ("works", "strength", "cause", "fact")
# A follow-up asking what the study in hand implies ("does that mean it would work the same way in people?").
_IMPLIES = re.compile(r"\b(does|did|would|do) (that|this|it|they) (mean|show(?! up)|prove|tell us|suggest)\b", re.I)
# A follow-up that points at the study in hand ("anything in it about pain?", "is that one any good as evidence?").
_POINTS_AT_STUDY = re.compile(
    # "in it" is the study, but "low in it" is magnesium
    r"(?<!low )(?<!high )(?<!rich )(?<!short )(?<!deficient )\bin (it|that|this)\b"
    r"|\b(that|this|the) (one|study|trial|review|paper)\b|\bas evidence\b"
    r"|\b(it|that|this|they) (says?|said|mentions?|covers?|talks? about|discuss(es)?)\b"  # what the document says
    rf"|{_IMPLIES.pattern}",  # what it implies
    re.IGNORECASE,
)
# A follow-up about the people of the study in hand ("did their pain go down too?") stays with it.
_ITS_PEOPLE = re.compile(r"\b(they|them|their|those people|the patients|the people)\b", re.IGNORECASE)


# A follow-up asking whether what the study in hand did was or would be done for others ("would that ever be done
# for people with diabetes?", "has this been tried in diabetics?"): its people are no move to another study.
_THAT_DONE = re.compile(r"\b(would|could|can|will|has|have|is|was|were)\s+(that|this)\s+(ever\s+)?(be|been)\b", re.I)


def _other_people(question: str, kept: str, res: Resources, thesaurus: Thesaurus) -> bool:
    """Whether a follow-up names, in its own words, people with a condition some study studied and the
    conversation's study did not ("ok and how about for diabetics, anything on their nerves?" after the back
    pain trial), without pointing at that study ("was that one in diabetics?")."""
    if _POINTS_AT_STUDY.search(question) or _THAT_DONE.search(question):
        return False
    said = set(search_terms(thesaurus.without_phrases(without_excluded(question))))
    studied = {sid for sid, conditions in res.conditions.items() if any(c and c <= said for c in conditions)}
    return bool(studied) and kept not in studied


# Magnesium given (what a trial does), not a level of it ("does taking it lower blood sugar?", not "does being low
# make insulin work worse?").
_GIVEN = re.compile(
    r"\b(take|takes|taking|took|supplement\w*|pills?|tablets?|capsules?|doses?|dosing|drips?|infusions?|injections?)\b",
    re.IGNORECASE,
)


def _moves_on(question: str, kept: str, res: Resources, works: bool) -> bool:
    """Whether a follow-up asking for evidence names, in its own words, an outcome some study measured that the
    conversation's study did not ("and does it bring sugar down?" after the nerve-test study), or, asking
    whether magnesium works, one that a study giving it to people measured when the conversation's study is a
    review, which adds no data of its own ("does taking it lower blood sugar then?" after the diabetes review),
    without pointing at that study or its people ("anything in it about pain?", "did their pain ease?")."""
    if _ITS_PEOPLE.search(question) or _POINTS_AT_STUDY.search(question):
        return False
    # its own words, and the source words for its lay phrases ("blood sugar": glucose); a lay word alone names
    # no outcome ("pills" is no supplement study's outcome)
    thesaurus, asked = res.banks.thesaurus, _GIVEN.sub(" ", without_excluded(question))  # what is given: no outcome
    text = f"{thesaurus.without_phrases(asked)} {' '.join(thesaurus.expansions(asked, phrases_only=True))}"
    said = set(search_terms(text))
    if said & {t for terms in res.outcomes.values() for t in terms} - res.outcomes.get(kept, frozenset()):
        return True  # an outcome word the study in hand never measured ("and the nerves?" after a sugar study)
    named = said & {t for terms in res.measured.values() for t in terms}
    if not named:
        return False
    tested = [s for s in res.kb.sources if s.evidence_level in TESTED]
    return (
        works
        and bool(_GIVEN.search(question))
        and res.kb.by_id[kept].evidence_level == "review"
        and any(named <= res.measured.get(s.id, frozenset()) for s in tested)
    )


# Intents that check a claim, which a quotation of the article makes a question about the article's claim.
_CLAIM_CHECKS = ("fact", "works", "strength", "cause", "numbers", "mechanism")
# A quotation: quote marks around a few words, at word boundaries (not the apostrophes of "don't ... it's").
_QUOTED = re.compile(r"(?:(?<=\s)|^)['\"“‘]([^\"”“]{6,160}?)['\"”’](?=[\s.,?!;:)]|$)")


def plain(text: str) -> str:
    """Lower-case words and digits, single-spaced: for finding a quotation in the article."""
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower().replace("’", "'").replace("'", "")).split())


# A quotation from memory ("scientists have found it's possible to regenerate nerves", the article having
# "found that it's possible") is the article's words when at least this share of its words are there, in order.
QUOTED_NEARLY = 0.85
NEARLY_FROM = 6  # words: a shorter quotation must be word for word


def _article_quotes(question: str, article_words: str) -> tuple[str, ...]:
    """The question's quotations (three words or more) that the article's text holds, as the article words them:
    word for word, or a longer one nearly so (see ``QUOTED_NEARLY``)."""
    out = []
    article = article_words.split()
    for quote in (plain(m) for m in _QUOTED.findall(question)):
        said = quote.split()
        if len(said) >= 3 and f" {quote} " in article_words:
            out.append(quote)
        elif len(said) >= NEARLY_FROM and (span := _nearly_quoted(said, article)):
            out.append(span)
    return tuple(out)


def _nearly_quoted(said: list[str], article: list[str]) -> str | None:
    """The article's words for a quotation that holds most of them in order, around its longest exact run."""
    i, j, size = SequenceMatcher(None, said, article, autojunk=False).find_longest_match(0, len(said), 0, len(article))
    if size < 3:
        return None
    start = max(0, j - i - 3)
    window = article[start : j - i + len(said) + 3]
    blocks = [b for b in SequenceMatcher(None, said, window, autojunk=False).get_matching_blocks() if b.size]
    if sum(b.size for b in blocks) < QUOTED_NEARLY * len(said):
        return None
    return " ".join(window[blocks[0].b : blocks[-1].b + blocks[-1].size])
