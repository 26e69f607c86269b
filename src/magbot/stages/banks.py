"""Readable data that teaches magbot what questions mean: intent examples, the lay-word thesaurus and
the emergency examples (``knowledge/understanding/*.yaml``, ``knowledge/safety/emergencies.yaml``).

The example sentences are embedded once and cached in the data folder under a name made from a hash of
the model and the texts, so a restart does not embed them again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from magbot._cache import array_bytes, write_cache
from magbot._errors import KnowledgeError
from magbot._yaml import safe_load
from magbot.text import STOPWORDS, search_terms, word_stem

log = logging.getLogger(__name__)

# An article word ruled out by the words just before it ("real science, not wellness blogs"): unlike
# ``text.without_excluded``, a describing word may stand between.
_RULED_OUT = re.compile(r"\b(not|no|rather than|instead of|other than|never mind|forget)( \w+)?\s*$")
DETERMINERS = frozenset({"the", "that", "this", "those", "these", "its", "their", "your"})

__all__ = ["Bank", "Banks", "Thesaurus", "embed_cached", "fit_cached", "load_banks"]


_MAGNESIUM_WORDS = frozenset({"magnesium", "mag", "mg"})
# Words that ask (interrogatives and the verbs a question starts with): a message with one is not small talk.
_QUESTION_WORDS = frozenset(
    "how what whats why which who when where does do did is are was were can could would will should shall".split()
)


# A stated age: "my 9 yr old", "a 12-year-old", "she's 7 y/o", "aged 15" (a number of years alone is a duration)
_AGE = re.compile(
    r"\b(?:(\d{1,2})\s*-?\s*(?:(?:yrs?|years?|months?)\s*-?\s*olds?|yo|y/o)|aged?\s+(\d{1,2}))\b", re.IGNORECASE
)


def _minor(match: re.Match[str]) -> bool:
    return int(match[1] or match[2]) < 18


# Where a claim passed on gives its reason ("X and that's why Y", "X, which is how Y"), in plain words.
_GIVES_REASON = re.compile(r"\s*\b(?:and )?(?:that[’']?s|that is|this is|which is) (?:why|how)\b\s*")


@dataclass(frozen=True)
class Thesaurus:
    """Lay words and the source words for them; words that never make a question uncovered; safety topics."""

    synonyms: dict[str, tuple[str, ...]]
    ignore: frozenset[str]
    safety_topics: dict[str, tuple[str, ...]]
    design_words: dict[str, frozenset[str]] = field(default_factory=dict)  # evidence level: words for it
    research_words: frozenset[str] = frozenset()  # words for a piece of research in general: study, paper
    outcome_words: frozenset[str] = frozenset()  # words after which a question names what it wants changed
    article_words: tuple[str, ...] = ()  # how people refer to the article ("the blog", "that site", "it says")
    asked_only_topics: frozenset[str] = frozenset()  # safety topics that count only where a question asks
    hearsay_words: tuple[str, ...] = ()  # how people pass on a claim read or heard ("apparently", "i read")
    social_words: frozenset[str] = frozenset()  # greetings, thanks, goodbyes ("ok thanks", "cool, cheers")
    article_claim_topics: frozenset[str] = frozenset()  # safety topics the article itself makes a claim about
    minor_age_topic: str | None = None  # the safety topic a stated age under 18 belongs to ("my 9 yr old")
    history_topics: frozenset[str] = frozenset()  # someone's medical history: declined only when asking to take it
    # the safety topic of asking to take magnesium beside a medicine one takes now ("I take amlodipine, is it ok
    # to add magnesium?"), whatever the medicine is called
    current_medicine_topic: str | None = None
    # how people announce a new subject in a conversation ("changing subject", "unrelated but")
    new_subject_words: tuple[str, ...] = ()
    claim_verbs: tuple[str, ...] = ()  # how people pass on what a text claims ("the blog says", "they claim")
    # what people ask magnesium to do that no study here measured ("reverse", "stop it getting worse", "cure")
    unmeasured_words: tuple[str, ...] = ()

    def new_subject(self, text: str) -> str | None:
        """What ``text`` asks after announcing a new subject ("ok changing subject - any research on nerves
        regrowing?": "any research on nerves regrowing?"), or None when it announces none. An announcement opens
        the message or a sentence of it, after two words at most ("ok so, unrelated but ..."; "my toddler ate some
        toothpaste, he's fine. unrelated but ..."; not "is nerve pain unrelated to ...")."""
        matches = self._announcement.finditer(text) if self.new_subject_words else iter(())
        match = next((m for m in matches if len(re.split(r"[.!?]", text[: m.start()])[-1].split()) <= 2), None)
        if match is None:
            return None
        rest = text[match.end() :].lstrip(" ,.;:!-–—")
        return rest if any(ch.isalpha() for ch in rest) else text

    @cached_property
    def _announcement(self) -> re.Pattern[str]:
        """Any of ``new_subject_words``, the longest first, its words apart by spaces or punctuation."""
        phrases = sorted(self.new_subject_words, key=len, reverse=True)
        return re.compile(
            r"\b(?:" + "|".join(r"\W+".join(map(re.escape, p.split())) for p in phrases) + r")\b", re.IGNORECASE
        )

    def is_social(self, text: str) -> bool:
        """Whether ``text`` is only small talk: it starts with a social word, every word is one or a common word,
        and nothing asks (no question mark or question word: "by how much" is a follow-up)."""
        said = _plain_words(text)
        return (
            bool(said)
            and said[0] in self.social_words
            and "?" not in text
            and not _QUESTION_WORDS & set(said)
            and all(w in self.social_words or w in STOPWORDS for w in said)
        )

    @cached_property
    def _claim_cues(self) -> dict[str, list[list[str]]]:
        """The claim verbs and hearsay phrases as word lists, by their first word."""
        cues: dict[str, list[list[str]]] = {}
        for cue in (*self.claim_verbs, *self.hearsay_words):
            said = cue.split()
            if said:
                cues.setdefault(said[0], []).append(said)
        return cues

    def reported_claims(self, clauses: Sequence[str]) -> tuple[str, ...]:
        """What the clauses pass on as claimed: the words after a claim verb or hearsay phrase ("the blog says
        being low on magnesium makes insulin resistance worse" -> "being low on magnesium makes insulin resistance
        worse"), where at least three content words follow."""
        cues = self._claim_cues
        out: list[str] = []
        for clause in clauses:
            said = _plain_words(clause)
            ends = [i + len(c) for i, w in enumerate(said) for c in cues.get(w, ()) if said[i : i + len(c)] == c]
            if not ends:
                continue
            rest = said[min(ends) :]
            rest = rest[1:] if rest[:1] == ["that"] else rest
            # "magnesium blocks NMDA and that's how it lowers pain": a claim and the reason given, each its own
            out += [p for p in _GIVES_REASON.split(" ".join(rest)) if len(search_terms(p)) >= 3]
        return tuple(out)

    def asks_unmeasured(self, text: str) -> bool:
        """Whether ``text`` asks for an effect no study here measured ("can it reverse my neuropathy?"), not
        said to be absent ("it's not getting worse, just always there")."""
        padded = _padded(text)
        return any(
            not _NEGATIONS.intersection(padded[:start].split()[-3:])
            for start in _said_at(padded, self.unmeasured_words)
        )

    def reports_claim(self, text: str) -> bool:
        """Whether ``text`` passes on something read or heard ("apparently ...", "I read that ...")."""
        padded = _padded(text)
        return any(f" {w} " in padded for w in self.hearsay_words)

    @cached_property
    def _outcome_stems(self) -> frozenset[str]:
        return frozenset(word_stem(w) for w in self.outcome_words if " " not in w)

    def claims_effect(self, text: str) -> bool:
        """Whether ``text`` says magnesium changes something: a word for magnesium, then within three words an
        outcome word in any form ("magnesium cured his sciatica", "mag really helped her")."""
        said = _plain_words(text)
        for i, word in enumerate(said):
            if word in _MAGNESIUM_WORDS and any(word_stem(w) in self._outcome_stems for w in said[i + 1 : i + 4]):
                return True
        return False

    def refers_to_article(self, text: str) -> bool:
        """Whether ``text`` speaks of the article, other than to rule it out ("actual science, not wellness
        blogs", "rather than that site")."""
        padded = _padded(text)
        return any(not _RULED_OUT.search(padded[:start][-30:]) for start in _said_at(padded, self.article_words))

    def pointed_levels(self, text: str) -> frozenset[str]:
        """The kinds of study ``text`` points at with a determiner ("the rat study", "that sugar meta thing",
        "the big general magnesium review"), as opposed to speaking of a kind of evidence ("is it all animal
        stuff?"). Only describing words may stand between ("the article says both animal..." points at none)."""
        said = _plain_words(text)
        levels: set[str] = set()
        for i, word in enumerate(said):
            kinds = {level for level, terms in self.design_words.items() if word in terms}
            before = said[max(0, i - 5) : i][::-1]
            for w in before:
                if w in DETERMINERS:
                    levels |= kinds
                    break
                if w in STOPWORDS or w in self.design_words_all or w in self.research_words:
                    break
        return frozenset(levels)

    @cached_property
    def design_words_all(self) -> frozenset[str]:
        return frozenset(w for terms in self.design_words.values() for w in terms)

    def research_in(self, text: str) -> tuple[bool, frozenset[str]]:
        """Whether ``text`` speaks of a piece of research, and the evidence levels its words point at."""
        said = set(_plain_words(text))
        levels = frozenset(level for level, terms in self.design_words.items() if said & terms)
        return bool(levels or said & self.research_words), levels

    @cached_property
    def key_words(self) -> frozenset[str]:
        """Every word of the lay words and phrases, as written and as Snowball stems ("pumps" is "pump")."""
        said = {w for key in self.synonyms for w in key.split()}
        return frozenset(said | {word_stem(w) for w in said})

    @cached_property
    def _longest_first(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """(key, its stems, source words), longer phrases first."""
        keys = sorted(self.synonyms, key=lambda k: -len(k.split()))
        return tuple((k, " ".join(word_stem(w) for w in k.split()), self.synonyms[k]) for k in keys)

    def expansions(self, text: str, phrases_only: bool = False) -> list[str]:
        """Source words for the lay words and phrases found in ``text`` (whole words, in any word form:
        "infusions" finds "infusion"); with ``phrases_only``, for its phrases alone. A phrase's words are not
        read again on their own: "a sugar pill" is a placebo, not sugar."""
        padded = _padded(text)
        stemmed = f" {' '.join(word_stem(w) for w in _plain_words(text))} "
        out: list[str] = []
        for key, key_stems, values in self._longest_first:
            if phrases_only and " " not in key:
                continue
            if f" {key} " in padded or f" {key_stems} " in stemmed:
                out.extend(v for v in values if v not in out)
                if " " in key:  # a phrase: its words are not read again
                    padded, stemmed = _without(padded, key), _without(stemmed, key_stems)
        return out

    def without_phrases(self, text: str) -> str:
        """``text`` less the lay phrases the thesaurus translates ("a dummy sugar pill" less "sugar pill"),
        whose words mean nothing on their own."""
        padded = _padded(text)
        for key, _, _ in self._longest_first:
            if " " in key:
                padded = _without(padded, key)
        return padded

    @cached_property
    def _safety_forms(self) -> dict[str, tuple[tuple[int, str, str, tuple[str, ...]], ...]]:
        """By its first word, each term's place in the file, its topic, the term and its forms between spaces (a
        phrase also with its last word in the plural), built once."""
        by_first: dict[str, list[tuple[int, str, str, tuple[str, ...]]]] = {}
        terms = [(topic, t) for topic, ts in self.safety_topics.items() for t in ts]
        for place, (topic, t) in enumerate(terms):
            forms = tuple(f" {t}{end} " for end in (("", "s", "es") if " " in t else ("",)))
            by_first.setdefault(t.split(" ", 1)[0], []).append((place, topic, t, forms))
        return {first: tuple(entries) for first, entries in by_first.items()}

    def safety_terms(self, text: str) -> list[tuple[str, str]]:
        """(topic, term) for every safety-topic term in ``text``, as written or, for a phrase, with its last word in
        the plural ("magnesium sprays", "with my medications"; a single word as written: "my teens" is no teen)."""
        padded = _padded(_OWN_YOUNGER_DAYS.sub(" ", text))
        # a relative's case is asked like one's own: "get his level checked", "with her tablets"
        theirs = _THIRD_PERSON_OWNER.sub(" my ", padded)
        said = padded if theirs == padded else f"{padded}|{theirs}"
        present = set(said.split())
        matched = sorted(  # in the file's order, which decides between topics
            (place, topic, t)
            for first, entries in self._safety_forms.items()
            if first in present
            for place, topic, t, forms in entries
            if any(f in said for f in forms)
        )
        found = [(topic, t) for _, topic, t in matched]
        if self.minor_age_topic:
            found += [(self.minor_age_topic, " ".join(_plain_words(m[0]))) for m in _AGE.finditer(text) if _minor(m)]
        return found


@dataclass(frozen=True)
class Bank:
    """Labelled example sentences with their embeddings (rows L2-normalised)."""

    labels: tuple[str, ...]
    texts: tuple[str, ...]
    vectors: np.ndarray

    @cached_property
    def _rows(self) -> tuple[tuple[str, np.ndarray], ...]:
        """Each label with the rows of its examples, found once."""
        labels = np.array(self.labels)
        return tuple((label, np.flatnonzero(labels == label)) for label in dict.fromkeys(self.labels))

    @cached_property
    def _table(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """The labels, a (labels x most examples) table of row numbers (short rows point past the last row), and
        each label's count: so the nearest examples of every label are found in a few array operations."""
        rows = self._rows
        width = max((len(r) for _, r in rows), default=0)
        table = np.full((len(rows), width), len(self.labels), dtype=np.int64)
        for i, (_, r) in enumerate(rows):
            table[i, : len(r)] = r
        return tuple(label for label, _ in rows), table, np.array([len(r) for _, r in rows], dtype=np.float64)

    def nearest(self, vector: np.ndarray, k: int = 3) -> dict[str, float]:
        """Per label, the mean similarity of its ``k`` nearest examples to ``vector``."""
        labels, table, counts = self._table
        if not labels:
            return {}
        sims = np.append(self.vectors @ vector, -np.inf)  # the padding reads -inf
        top = np.sort(sims[table], axis=1)[:, -k:]
        top = np.where(np.isfinite(top), top, 0.0)  # a label with fewer than k examples: the mean of those it has
        means = top.sum(axis=1) / np.minimum(counts, k)
        return dict(zip(labels, means.tolist(), strict=True))


@dataclass(frozen=True)
class Banks:
    thesaurus: Thesaurus
    intents: Bank
    emergencies: Bank  # labels: "emergency:<class>" or "calm:<class>"
    words: Bank  # labels: "subject" or "chat"


_THIRD_PERSON_OWNER = re.compile(r" (?:his|her) (?=\S)")
# The asker's own younger days ("migraines since I was a teen"), or a birth as a date ("sciatica since my second
# kid was born"): no child in the question now
_OWN_YOUNGER_DAYS = re.compile(
    r"\b(?:ever since|since|when|from when)\s+(?:i|we)\s+(?:was|were)\s+(?:a\s+|an\s+)?(?:little\s+|young\s+|small\s+)?"
    r"(?:kid|kids|child|children|teen|teens|teenager|teenagers|baby|toddler)\b"
    r"|\b(?:ever since|since|after|before|when|from when)\s+(?:(?:my|our)\s+(?:\w+\s+)?(?:kid|kids|child|children|baby"
    r"|babies|son|daughter|twins)\s+(?:was|were)\s+born|i\s+had\s+(?:my|our)\s+(?:\w+\s+)?(?:kid|kids|child"
    r"|children|baby|babies|son|daughter|twins))\b",
    re.IGNORECASE,
)


# Words that deny what follows within three words ("not getting worse", "never got worse").
_NEGATIONS = frozenset({"not", "no", "never", "nor", "isnt", "isn't", "wasnt", "wasn't", "hasnt", "hasn't", "without"})


def _said_at(padded: str, phrases: Iterable[str]) -> Iterator[int]:
    """Where in a space-padded text each of ``phrases`` is said, as a whole word or phrase."""
    for phrase in phrases:
        start = padded.find(f" {phrase} ")
        while start >= 0:
            yield start
            start = padded.find(f" {phrase} ", start + 1)


def _padded(text: str) -> str:
    """The text's plain words between spaces, for whole-word and phrase lookups (" with my meds ")."""
    return f" {' '.join(_plain_words(text))} "


def _without(padded: str, phrase: str) -> str:
    """A space-padded text with ``phrase`` taken out (marked, so the words either side do not join up)."""
    return padded.replace(f" {phrase} ", " | ")


def _plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.lower().replace("’", "'"))


def _read_yaml(path: Path) -> Any:
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KnowledgeError(path, "missing (magbot needs it to understand questions)") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(path, f"cannot be read as YAML ({exc})".replace("\n", " ")) from exc


def _strings(path: Path, value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise KnowledgeError(path, "must be a list of non-empty strings", field=field)
    return tuple(v.strip().lower() for v in value)


def _labelled(path: Path, data: Any, nested: bool) -> list[tuple[str, str]]:
    """(label, text) pairs from ``{label: [text, ...]}`` or ``{group: {label: [text, ...]}}``."""
    if not isinstance(data, dict) or not data:
        raise KnowledgeError(path, "must be a mapping of label: list of examples")
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if nested:
            if not isinstance(value, dict):
                raise KnowledgeError(path, "must be a mapping of class: list of examples", field=str(key))
            for label, texts in value.items():
                pairs += [(f"{key}:{label}", t) for t in _strings(path, texts, f"{key}.{label}")]
        else:
            pairs += [(str(key), t) for t in _strings(path, value, str(key))]
    return pairs


def load_thesaurus(path: Path) -> Thesaurus:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise KnowledgeError(path, "must be a mapping with synonyms, ignore and safety_topics")
    synonyms_raw = data.get("synonyms") or {}
    if not isinstance(synonyms_raw, dict):
        raise KnowledgeError(path, "must be a mapping of lay word: list of source words", field="synonyms")
    synonyms = {" ".join(_plain_words(str(k))): _strings(path, v, f"synonyms.{k}") for k, v in synonyms_raw.items()}
    topics_raw = data.get("safety_topics") or {}
    if not isinstance(topics_raw, dict):
        raise KnowledgeError(path, "must be a mapping of topic: list of words", field="safety_topics")
    topics = {
        str(k): tuple(" ".join(_plain_words(t)) for t in _strings(path, v, f"safety_topics.{k}"))
        for k, v in topics_raw.items()
    }
    ignore = frozenset(_strings(path, data.get("ignore") or [], "ignore"))
    designs_raw = data.get("design_words") or {}
    if not isinstance(designs_raw, dict):
        raise KnowledgeError(path, "must be a mapping of evidence level: list of words", field="design_words")
    designs = {str(k): frozenset(_strings(path, v, f"design_words.{k}")) for k, v in designs_raw.items()}
    research = frozenset(_strings(path, data.get("research_words") or [], "research_words"))
    outcomes = frozenset(_strings(path, data.get("outcome_words") or [], "outcome_words"))
    article = tuple(" ".join(_plain_words(t)) for t in _strings(path, data.get("article_words") or [], "article_words"))
    asked_only = _topics_named(path, data, "asked_only_topics", topics)
    hearsay = tuple(" ".join(_plain_words(t)) for t in _strings(path, data.get("hearsay_words") or [], "hearsay_words"))
    social = frozenset(_strings(path, data.get("social_words") or [], "social_words"))
    claimed = _topics_named(path, data, "article_claim_topics", topics)
    history = _topics_named(path, data, "history_topics", topics)
    minor = _topic_named(path, data, "minor_age_topic", topics)
    current = _topic_named(path, data, "current_medicine_topic", topics)
    new_subject = tuple(
        " ".join(_plain_words(t)) for t in _strings(path, data.get("new_subject_words") or [], "new_subject_words")
    )
    claim_verbs = tuple(" ".join(_plain_words(t)) for t in _strings(path, data.get("claim_verbs") or [], "claim_verbs"))
    unmeasured = tuple(
        " ".join(_plain_words(t)) for t in _strings(path, data.get("unmeasured_words") or [], "unmeasured_words")
    )
    return Thesaurus(
        synonyms,
        ignore,
        topics,
        designs,
        research,
        outcomes,
        article,
        asked_only,
        hearsay,
        social,
        claimed,
        minor,
        history,
        current,
        new_subject,
        claim_verbs,
        unmeasured,
    )


def _topics_named(path: Path, data: dict[str, Any], field: str, topics: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """A list of safety topics ``field`` names, each one ``safety_topics`` has."""
    named = frozenset(_strings(path, data.get(field) or [], field))
    if unknown := named - set(topics):
        raise KnowledgeError(path, f"names topics that safety_topics lacks: {', '.join(sorted(unknown))}", field=field)
    return named


def _topic_named(path: Path, data: dict[str, Any], field: str, topics: dict[str, tuple[str, ...]]) -> str | None:
    """The one safety topic ``field`` names, if any, which ``safety_topics`` must have."""
    value = data.get(field)
    if value is not None and str(value) not in topics:
        raise KnowledgeError(path, f"names a topic that safety_topics lacks: {value}", field=field)
    return None if value is None else str(value)


def embed_cached(
    texts: Sequence[str], embed: Callable[[Sequence[str]], np.ndarray], model: str, cache_dir: Path
) -> np.ndarray:
    digest = hashlib.sha256("\0".join([model, *texts]).encode()).hexdigest()[:20]
    path = cache_dir / f"bank-{digest}.npy"
    try:
        cached = np.load(path)
        if cached.shape[0] == len(texts):
            return np.asarray(cached, dtype=np.float32)
    except (OSError, ValueError):
        pass
    vectors = embed(texts)
    write_cache(path, array_bytes(vectors), "example embeddings")
    return vectors


def fit_cached(
    name: str, inputs: Sequence[np.ndarray], fit: Callable[[], dict[str, np.ndarray]], cache_dir: Path | None
) -> dict[str, np.ndarray]:
    """The parameters of a model fitted on ``inputs``, fitted once and kept in ``cache_dir``.

    The file is named by a hash of the inputs, so changed examples mean a new fit. Serving loads plain
    arrays and predicts with NumPy: the fitting library (scikit-learn) is imported only to fit.
    """
    digest = hashlib.sha256(name.encode())
    for array in inputs:
        digest.update(str(array.shape).encode() + str(array.dtype).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    path = cache_dir / f"fit-{name}-{digest.hexdigest()[:20]}.npz" if cache_dir else None
    if path is not None:
        try:
            with np.load(path) as stored:
                return {k: stored[k] for k in stored.files}
        except (OSError, ValueError):
            pass
    params = fit()
    if path is not None:
        write_cache(path, array_bytes(**params), f"the fitted {name} model")
    return params


def load_banks(knowledge_dir: Path, embed: Callable[[Sequence[str]], np.ndarray], model: str, cache_dir: Path) -> Banks:
    """Read the four data files and embed their examples (from the cache when it is current)."""
    understanding = knowledge_dir / "understanding"
    thesaurus = load_thesaurus(understanding / "thesaurus.yaml")
    intent_path = understanding / "intents.yaml"
    intent_pairs = _labelled(intent_path, _read_yaml(intent_path), nested=False)
    emergency_path = knowledge_dir / "safety" / "emergencies.yaml"
    emergency_pairs = _labelled(emergency_path, _read_yaml(emergency_path), nested=True)
    if not any(lab.startswith("emergency:") for lab, _ in emergency_pairs) or not any(
        lab.startswith("calm:") for lab, _ in emergency_pairs
    ):
        raise KnowledgeError(emergency_path, "needs both emergency: and calm: examples")
    words_path = understanding / "words.yaml"
    word_pairs = _labelled(words_path, _read_yaml(words_path), nested=False)
    if {lab for lab, _ in word_pairs} != {"subject", "chat"}:
        raise KnowledgeError(words_path, "needs exactly two lists: subject and chat")
    groups = [intent_pairs, emergency_pairs, word_pairs]
    vectors = embed_cached([t for g in groups for _, t in g], embed, model, cache_dir)
    made: list[Bank] = []
    start = 0
    for group in groups:
        rows = vectors[start : start + len(group)]
        made.append(Bank(tuple(lab for lab, _ in group), tuple(t for _, t in group), rows))
        start += len(group)
    return Banks(thesaurus, made[0], made[1], made[2])
