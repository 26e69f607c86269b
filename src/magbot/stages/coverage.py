"""Coverage: which of a question's words name subjects the knowledge never mentions, and which of those
belong to the story around the question rather than to what it asks.

- unknown words: words no knowledge file uses in any form or lay synonym (typos corrected), split into names
  (acronyms, rare capitalised words) and other words, which the subject model judges by meaning;
- asked outcome: what a question asks magnesium to change ("does it help you *sleep*?");
- the story: medicines tried, an old illness, where someone lives, when the asking clause names a subject
  of its own;
- safety topics the studies do not cover (thesaurus terms, or a question that reads as a safety question).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING

from magbot.stages.safety import (
    CONDITION_TERMS,
    NAMES_MAGNESIUM,
    asking_clauses,
    clauses,
    goes_on,
    one_clause,
    told_as_past,
)
from magbot.text import STOPWORDS, CommonWords, english_correction, stem, without_excluded, word_stem, words

if TYPE_CHECKING:
    from magbot.stages.banks import Thesaurus
    from magbot.stages.understand import Resources

__all__ = [
    "asked_outcome",
    "asked_part",
    "form_only",
    "judged_by_meaning",
    "points_back",
    "safety_topic",
    "story_only",
    "unknown_words",
]


def _verb_or_adverb(word: str) -> bool:
    """An inflected verb or an adverb of an everyday English word ("stretching", "cured", "really")."""
    from magbot.text import _english

    english = _english()
    for suffix, bases in (("ing", ("", "e")), ("ed", ("", "e")), ("ied", ("y",)), ("ly", ("",))):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            root = word[: -len(suffix)]
            candidates = [root + b for b in bases]
            if root[-1:] == root[-2:-1]:  # "stopped" -> "stop"
                candidates.append(root[:-1])
            if any(c in english for c in candidates):
                return True
    return False


_THIRD_PERSON = re.compile(
    r"(?=\b(?:it|this|that|which|who|he|she|magnesium|mag)\s+(?:also\s+|even\s+|really\s+)?([a-z]+s)\b)"
)


def _third_person_verbs(text: str) -> set[str]:
    """Words used as verbs after a subject ("this *bumps* up your risk", "magnesium *dampens* NMDA"): an
    everyday English verb with its -s, which names no subject."""
    from magbot.text import _english

    english = _english()
    out: set[str] = set()
    for word in _THIRD_PERSON.findall(text.lower()):
        bases = [word[:-1]] + ([word[:-2]] if word.endswith("es") else [])
        if any(b in english for b in bases):
            out.add(word)
    return out


def _names(text: str, common: CommonWords) -> set[str]:
    """Words typed as names: acronyms ("MS", "IBS") and capitalised words inside a sentence that are not
    everyday words ("Swisse"; "Poland" and "Facebook" are judged by meaning like any other word)."""
    out: set[str] = set()
    shouting = sum(1 for t in re.findall(r"[A-Za-z]{2,}", text) if t.isupper()) >= 3  # caps for emphasis
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9-]*", text):
        token, start = match.group(0), match.start()
        before = text[:start].rstrip()
        sentence_start = not before or before[-1] in '.!?:;"“(' or before.endswith("\n")
        emphasis = len(token) >= 4 and token.lower() in common  # "PROVE": a word, not an acronym
        if (token.isupper() and 2 <= len(token) <= 6 and token != "I" and not shouting and not emphasis) or (
            token[0].isupper() and token[1:].islower() and not sentence_start and token.lower() not in common
        ):
            out.add(token.lower())
    return out


# English prefixes that keep the subject of the word they are put before ("prediabetic" is about diabetes).
_PREFIXES = ("pre", "post", "non", "anti", "hyper", "hypo", "sub", "under", "over")


def _parts(said: list[str], known: Callable[[str], bool]) -> list[str]:
    """Words, with a compound the sources do not use split into its parts, less prefixes: "chemo-induced" is
    about chemo, "pre-diabetic" about diabetes."""
    out: list[str] = []
    for word in said:
        if "-" in word and not known(word):
            out += [part for part in word.split("-") if part and part not in _PREFIXES]
        else:
            out.append(word)
    return out


# A sensation described by what it is like ("feels like walking on broken glass", "as if wrapped in cotton
# wool"): the words of the comparison are not what the question is about.
_SIMILE = re.compile(
    r"\b(?:feel|feels|feeling|felt|it'?s|is|are)\s+(?:\w+\s+){0,2}?(?:like|as if|as though|wrapped in)\s+"
    r"(?!compared|versus|vs\b)[^,.;:?!]*"
    r"|\blike (?:walking|standing|stepping|being) [^,.;:?!]*",
    re.IGNORECASE,
)


def _without_similes(text: str) -> str:
    """``text`` less its comparisons, unless one speaks of magnesium ("I feel like magnesium helps")."""
    return _SIMILE.sub(lambda m: m.group(0) if NAMES_MAGNESIUM.search(m.group(0)) else " ", text)


def judged_by_meaning(word: str) -> bool:
    """Whether a word the knowledge files never use could be a subject, whatever the question: not a
    stopword, a short word or an inflected verb or adverb (``unknown_words`` passes only such words on)."""
    return word.isalpha() and len(word) >= 3 and word not in STOPWORDS and not _verb_or_adverb(word)


def unknown_words(text: str, res: Resources) -> tuple[list[str], list[str]]:
    """Words of ``text`` that the knowledge files never use, in any form or lay synonym (typos corrected):
    (names, which are subjects by how they are written; other words, to be judged by meaning)."""
    thesaurus = res.banks.thesaurus
    text = _without_similes(text)
    by_synonym = thesaurus.key_words

    def known(word: str) -> bool:
        stemmed = word_stem(word)
        if word in by_synonym or stemmed in by_synonym or stemmed in res.stems:
            return True
        # a subject words.yaml names is known only as itself, not by its first letters ("glucosamine" is not
        # "glucose", "neuroma" not "neuromuscular")
        if res.subjects.known.get(word) is True and word in res.subjects.labelled:
            return stem(word) in res.vocabulary.terms
        return res.vocabulary.covers(stem(word))

    names = _names(text, res.common)
    verbs = _third_person_verbs(text)
    found_names: list[str] = []
    out: list[str] = []
    for word in _parts(words(text), known):
        if word in STOPWORDS or word in thesaurus.ignore or word in thesaurus.outcome_words or word.isdigit():
            continue
        if word in thesaurus.research_words or word in thesaurus.design_words_all:
            continue  # how a study is described ("lab animals", "a survey") is not what it is about
        if known(word):
            continue
        if word in names:
            found_names.append(word)
            continue
        if len(word) < 3:
            continue
        if any(word.startswith(p) and len(word) - len(p) >= 5 and known(word[len(p) :]) for p in _PREFIXES):
            continue  # a prefixed form of a word the sources use: "prediabetic", "nondiabetic"
        if _verb_or_adverb(word) or word in verbs:
            continue  # subjects are things (nouns): "swallowing", "diagnosed", "honestly" are how it is said
        if word.isalpha() and word not in res.subjects.labelled and res.vocabulary.spell(word):
            continue  # a misspelling of a word the sources use ("fibro" is a word of words.yaml, not "fibre")
        fixed = english_correction(word) if word not in res.common else None
        if fixed and known(fixed):  # a misspelling of a lay word the sources cover ("circulaton")
            continue
        out.append(fixed or word)
    return list(dict.fromkeys(found_names)), list(dict.fromkeys(out))


# Words between an outcome word and what it governs: "help (me) with (my) sleep", "good for (your) sleep".
_GOVERNED = frozenset("me you us him her them people someone with my your his their our the a an to get".split())


def asked_outcome(question: str, outcome_words: frozenset[str]) -> str | None:
    """What a question asks magnesium to change: the first word after "help", "good for", "stop", ...
    ("does magnesium help you *sleep*?"). A word used as small talk elsewhere ("I can't sleep") is the
    question's subject here, so the sources must cover it. A word before a condition is how that condition is
    described ("good for dodgy nerves"): the condition is what is asked."""
    said = words(question)
    for i in range(len(said) - 1):
        for size in (2, 1):  # "good for" before "for" alone (which is not one: "asking for my mum")
            if " ".join(said[i : i + size]) in outcome_words:
                at = [j for j in range(i + size, min(i + size + 4, len(said))) if said[j] not in _GOVERNED]
                if not at:
                    return None
                after = said[at[0] + 1] if at[0] + 1 < len(said) else ""
                condition = after in CONDITION_TERMS or after.removesuffix("s") in CONDITION_TERMS
                if condition and said[at[0]] not in _STORY_PRONOUNS:
                    return after  # "good for dodgy nerves": the nerves
                return said[at[0]]
    return None


def safety_topic(text: str, intent: str, res: Resources, names_a_study: bool) -> str | None:
    """A safety topic the studies do not cover: by its words (thesaurus), or by the question's intent when it
    does not name a study (a question about a named study's design or results is not a safety question)."""
    if any(f.result == "safety" for s in res.kb.sources for f in s.findings):
        return None  # the knowledge has safety findings: let retrieval decide
    thesaurus = res.banks.thesaurus
    about_research = thesaurus.research_in(text)[0]
    asked: list[tuple[str, str]] | None = None  # the terms where the question asks, found when needed
    history = None  # a topic of someone's history counts only if nothing else makes it a safety question
    for topic, term in thesaurus.safety_terms(without_excluded(text)):  # not "forget the oil"
        if topic in thesaurus.asked_only_topics:
            if asked is None:
                # (a message of one clause asks all it says, question-shaped or not: "roughly what it costs"; one
                # with no clause that reads as asking asks its last: "my bloods say 0.71, what should my level be")
                if _POINTS_BACK_AT_STORY.search(text) or one_clause(text):
                    where = text
                else:
                    where = asking_clauses(text) or (clauses(text) or [text])[-1]
                asked = thesaurus.safety_terms(without_excluded(where))
            if (topic, term) not in asked:
                continue  # "my chiropractor sells magnesium spray. does magnesium help a pinched nerve?"
        # the term itself, as written, not just its words somewhere ("side" and "effects"), nor another
        # word of the same stem ("the runs" is not "run low on magnesium")
        if f" {term} " not in res.study_text:
            if topic not in thesaurus.history_topics:
                return topic
            history = history or topic
    if intent != "safety" or names_a_study:
        return history
    if "deficiency" in thesaurus.expansions(text) and not _TAKING.search(text):
        # "does low magnesium have anything to do with heart problems?" asks about a link, not about taking it
        return history
    return history if about_research and _study_detail(text, res) else "safety"


# Words of taking magnesium: a question about low magnesium that says them asks about taking it too.
_TAKING = re.compile(
    r"\b(take|takes|taking|took|supplement\w*|tablets?|pills?|capsules?|doses?|dosage|mg|swallow\w*)\b",
    re.IGNORECASE,
)


# A question whose subject is a pronoun for what its story described: "do they get the magnesium in?"
_POINTS_BACK_AT_STORY = re.compile(
    r"\b(do|does|did|can|could|will|would|are|is|were|was)\s+(they|those|these|that|this|them)\b", re.IGNORECASE
)


def _study_detail(text: str, res: Resources) -> str | None:
    """A word of the question that only the studies' own text uses: not everyday English ("pregabalin",
    "endpoint"). A question that speaks of research and uses one is about what a study did ("the oxycodone
    and pregabalin study"), even when it reads like a safety question ("prescribe me pregabalin" is not)."""
    for word in words(text):
        if len(word) > 3 and word not in res.common and word_stem(word) in res.study_stems:
            return word
    return None


# Words by which a question points back at what its story described ("this type of pain", "that condition",
# "which one is best?").
_POINTS_BACK_AT_KIND = re.compile(
    r"\b(this|that|these|those|such|the same|which) (an? )?"
    r"(type|kind|sort|form|condition|illness|disease|problem|thing)s?\b"
    r"|\bwhich (one|ones|is|are)\b",
    re.IGNORECASE,
)
# ... or at the story as a whole, at the end of the question ("does it help this?"; "worth it" is an idiom)
_POINTS_BACK = re.compile(r"(?<!worth )\b(it|this|that|them)\s*[?!.]*\s*$", re.IGNORECASE)
# ... or at the nerve the story is about: "carpal tunnel in both wrists. can magnesium fix the nerve?", "recovering
# from Guillain-Barré. would it speed up the nerve recovery?" (not "nerve pain": a kind of its own)
_POINTS_BACK_AT_NERVE = re.compile(r"\bthe (?:damaged |injured |affected |same )?nerves?(?! pain)\b", re.IGNORECASE)


def points_back(asking: str) -> bool:
    """Whether an asking clause points back at the story before it ("this type of pain", "does it help that?"),
    rather than naming a condition of its own ("this kind of nerve pain")."""
    return bool((_POINTS_BACK_AT_KIND.search(asking) and not _kind_named(asking)) or _POINTS_BACK.search(asking))


def _kind_named(asking: str) -> bool:
    """Whether the kind an asking clause points at is a condition it names: "this kind of nerve pain"."""
    kind = _POINTS_BACK_AT_KIND.search(asking)
    named = words(asking[kind.end() :])[:4] if kind else []
    return named[:1] == ["of"] and bool(set(named) & CONDITION_TERMS)


_CLAUSE_BREAK = re.compile(r"[.?!;,]|\s[-–—]\s|\s(?:and|but)\s")


def _confirmed(question: str, asking: str) -> set[str]:
    """The words of the sentence a bare "true?" or "does it??" asks about: the one just before it."""
    sentences = [x for x in _SENTENCE.split(question.strip()) if x]
    at = next((i for i, x in enumerate(sentences) if asking.startswith(x.strip()) or x.strip().startswith(asking)), 0)
    return {p for w in words(sentences[at - 1]) for p in (w, *w.split("-"))} if at > 0 else set()


def _told_as_past_only(question: str, subject: str) -> bool:
    """Whether every clause that names ``subject`` puts it long in the past ("had a discectomy 2 years ago"), and
    nothing after it says it goes on ("had shingles two years back and still get burning": not history)."""
    parts = _CLAUSE_BREAK.split(question)
    at = [i for i, c in enumerate(parts) if c and subject in {p for w in words(c) for p in (w, *w.split("-"))}]
    later = " ".join(c for c in parts[at[-1] + 1 :] if c) if at else ""
    return bool(at) and all(told_as_past(parts[i]) for i in at) and not goes_on(later)


def _points_at_other(asking: str) -> bool:
    """Whether the question points back at something of the story other than a condition: "this kind of
    drug" does, "this sort of pain" does not."""
    found = _POINTS_BACK_AT_KIND.search(asking)
    return found is not None and not set(words(asking[found.end() :])[:2]) & CONDITION_TERMS


def _kinds_asked(asking: str, unknown: Sequence[str]) -> set[str]:
    """Unknown words right before a condition in what a question asks, which say which kind of it is asked
    about ("phantom pain", "trigeminal neuralgia")."""
    said = words(asking)  # "chemo-induced neuropathy" is a kind of it too
    return {a for a, b in pairwise(said) if set(unknown) & {a, *a.split("-")} and b in CONDITION_TERMS}


# What someone has tried or takes, up to the end of the sentence ("tried naproxen, acupuncture, the lot").
_TRIED = re.compile(
    r"\b(?:tried|trying|been on|been taking|been through|been thru|gone through|taking|on|given|gave me|prescribed|"
    r"using|used|put me on)\b([^.?!]*)",
    re.IGNORECASE,
)


def story_only(question: str, subjects: Sequence[str], unknown: Sequence[str], thesaurus: Thesaurus) -> bool:
    """Whether the unknown subjects are only in the story around a question that names a subject of its own
    ("had a TIA years ago, fully recovered. does magnesium help nerve pain in my back?"). A question with no
    subject of its own ("would magnesium help?"), or one that points back at the story ("this type of nerve
    pain"), is about the story's subject ("I have trigeminal neuralgia")."""
    asking = asking_clauses(question)
    if asking == question:
        return False
    # "tried naproxen, co-codamol, acupuncture. Is mag worth a try?": what was tried is not what is asked,
    # even where the question points back at the pain it was tried for ("does it help this sort of pain?"), or
    # where no clause reads as asking ("been thru gabapentin, naproxen... would a few weeks of magnesium tell")
    # (as typed and as spelling-corrected, as the subjects are: "acupunture" is the subject "acupuncture")
    tried = {part for span in _TRIED.findall(question) for w in words(span) for part in (w, *w.split("-"))}
    tried |= {fixed for w in tried if (fixed := english_correction(w))}
    only_tried = set(subjects) <= tried and bool(NAMES_MAGNESIUM.search(question))
    if not asking:
        return only_tried
    said = words(asking)
    if (set(said) | {w for word in said for w in word.split("-")}) & set(subjects):
        return False
    if len(said) <= 3 and not NAMES_MAGNESIUM.search(asking) and _confirmed(question, asking) & set(subjects):
        return False  # "been on omeprazole for years, someone said it lowers magnesium. true?": what it confirms
    if only_tried and not _points_at_other(asking):
        return True
    if _kinds_asked(asking, unknown):  # "phantom pain": an unknown kind of the condition is what is asked
        return False
    if set(subjects) & CONDITION_TERMS and _OWNED_PAIN.search(asking):
        return False  # "mum had shingles ... would it work for her pain?": the pain of the condition told
    if all(_told_as_past_only(question, s) for s in subjects):
        return True  # "had a TIA 8 years ago. does magnesium help this kind of nerve pain?": history
    if _POINTS_BACK_AT_KIND.search(asking):
        # "this kind of nerve pain" names a condition: only the story's words for a kind of it count ("trigeminal
        # neuralgia"), not every detail of the story ("ulcers", "dizzy")
        return _kind_named(asking) and not _kinds_asked(question, unknown)
    # its own subject in lay words counts too: "is the low magnesium bit true?" asks about a deficiency
    own = set(said) | {w for term in thesaurus.expansions(asking) for w in words(term)}
    pointed = _POINTS_BACK.search(asking) or _POINTS_BACK_AT_NERVE.search(asking)
    return not (pointed or _wanted_for_story(asking, thesaurus)) and bool(own & CONDITION_TERMS)


# What someone takes now, up to the end of the clause ("I take amlodipine for blood pressure", "she's on warfarin").
_TAKES_NOW = re.compile(
    r"\b(?:i|he|she|they|we|mum|mom|dad|my \w+)\s+(?:take|takes|use|uses|(?:am|is|are|'m|'s|’m|’s) (?:taking|on)"
    r"|(?:have|has|'ve|’ve) been (?:on|taking))\b([^.?!,;]*)"
    r"|\b(?:im on|currently on|currently taking|already on|already taking|prescribed|put (?:me|him|her) on)\b"
    r"([^.?!,;]*)",
    re.IGNORECASE,
)


def takes_now(question: str, subjects: Sequence[str]) -> bool:
    """Whether the question says someone takes one of ``subjects`` now ("I take amlodipine", "she's on X")."""
    said = {
        part
        for m in _TAKES_NOW.finditer(question)
        for w in words(" ".join(filter(None, m.groups())))
        for part in (w, *w.split("-"))
    }
    return bool(said & set(subjects))


# The pain the story told, pointed back at ("her pain", "the all-over pain", "his symptoms").
_OWNED_PAIN = re.compile(
    r"\b(my|his|her|their|the|this|that|your) ([a-z-]+ ){0,2}(pain|pains|neuropathy|neuralgia|symptoms|nerve|nerves)\b",
    re.IGNORECASE,
)

_STORY_PRONOUNS = frozenset({"it", "this", "that", "them", "these", "those"})


def _wanted_for_story(asking: str, thesaurus: Thesaurus) -> bool:
    """Whether what the question asks magnesium to change is the story itself: "will magnesium fix it or is
    that a different kind of nerve thing" (an outcome word, then a word pointing back)."""
    wanted = asked_outcome(asking, thesaurus.outcome_words)
    return wanted in _STORY_PRONOUNS


# A word right after a name of magnesium says which form of it ("magnesium glycinate", "mag citrate").
_FORM = re.compile(r"\b(?:magnesium|mag)\s+([a-z]+)\b", re.IGNORECASE)
# Words that weigh one thing against another ("which is better", "just as good", "compared with").
_COMPARES = re.compile(r"\b(which|better|best|worse|worst|as good|as well|compare\w*|versus|vs)\b", re.IGNORECASE)


def form_only(question: str, subjects: Sequence[str]) -> bool:
    """Whether the one thing the sources never mention is the form of magnesium asked about ("does magnesium
    glycinate help nerve pain?" is answered, saying the sources do not speak of glycinate); weighing forms or
    brands is a comparison the sources cannot make ("is glycinate better?")."""
    forms = {m.lower() for m in _FORM.findall(question)}
    return len(subjects) == 1 and subjects[0] in forms and not _COMPARES.search(question)


_SENTENCE = re.compile(r"(?<!\bvs\.)(?<=[.?!])\s+", re.IGNORECASE)  # "magnesium vs. cymbalta" is one
# What magnesium is weighed against: the words after "better than", "compared with", "vs" ("is magnesium better
# than my amitriptyline?"), up to the end of the clause or what it is for ("... for the burning in my feet").
_AGAINST = re.compile(
    r"\b(?:than|versus|vs|compared (?:to|with)|against)\b\.?\s+"
    r"((?:(?!\b(?:for|at|in|with|when|if|or|and)\b)[^,.;:?!])+)",
    re.IGNORECASE,
)


def baseline_only(question: str, subjects: Sequence[str]) -> bool:
    """Whether what the sources never mention is only what magnesium is compared with ("would magnesium work
    better than my amitriptyline?" asks whether magnesium works, against a baseline no study here used), not
    the subject of the comparison ("is lipoic acid better than magnesium?" asks about lipoic acid)."""
    baseline: set[str] = set()
    for sentence in _SENTENCE.split(question):
        for m in _AGAINST.finditer(sentence):
            if NAMES_MAGNESIUM.search(sentence[: m.start()]) and not NAMES_MAGNESIUM.search(m[1]):
                baseline |= {part for w in words(m[1]) for part in (w, *w.split("-"))}
    return bool(subjects) and set(subjects) <= baseline


def asked_part(text: str, thesaurus: Thesaurus) -> str:
    """The asking clauses of ``text`` and their source words, or "" when they are the whole of it."""
    asking = asking_clauses(text)
    if not asking or len(asking) >= len(text.strip()) or points_back(asking):
        return ""  # "did any study test magnesium for that?" asks about the story
    extra = thesaurus.expansions(without_excluded(asking))
    return f"{thesaurus.without_phrases(asking)} {' '.join(extra)}"
