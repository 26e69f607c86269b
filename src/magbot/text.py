"""Small text helpers shared by retrieval and scope checks: tokens, stems, fuzzy vocabulary matches."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from magbot._cache import write_cache

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just me more most my no nor
    not now of off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours i'm im ive i've dont don't
    doesn't isnt is there's whats what's tell know please thanks thank hi hello anything something get
    got give
    """.split()
)


# A mention that is ruled out: "(not just rats)", "in people rather than mice", "other than the rat one",
# "forget the oil", "not interested in mice studies", "don't want the rat one".
_EXCLUDED = re.compile(
    r"\b(?:not(?: (?:interested in|looking for|after|asking about|talking about))?|(?:do|does)(?: not|n'?t) "
    r"(?:want|care about|need)|rather than|instead of|other than|apart from|besides|except(?: for)?|excluding|"
    r"forget(?: about)?)\s+"
    r"(?:(?:just|only|in|on|the|those|these|with|from|any|a)\s+)*[a-z0-9-]+(?:\s+(?:or|and|nor)\s+[a-z0-9-]+)?",
    re.IGNORECASE,
)


# A state denied: "he isn't diabetic", "non-diabetic", "never had back pain", "if you don't have diabetes".
_DENIED = re.compile(
    r"\b(?:non-?|(?:is|are|was|were|has|have)n['’]?t\s+|never\s+|(?:do|does|did)n['’]?t\s+have\s+(?:any\s+)?)"
    r"(?:(?:been|had|got|a|an)\s+)*[a-z0-9-]+",
    re.IGNORECASE,
)


def without_excluded(text: str) -> str:
    """``text`` less what it rules out or denies: a study named only to be excluded is not the one asked
    about, and a condition someone does not have is not theirs."""
    return _DENIED.sub(" ", _EXCLUDED.sub(" ", text))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def stem(word: str) -> str:
    """A light suffix stripper: enough to match plural/verb forms in a small English corpus."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word


def content_terms(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


_LOCAL = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


@lru_cache(maxsize=65536)
def word_stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a word: "regrowth" and "regrow", "artery" and "arterial" meet."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def search_terms(text: str) -> list[str]:
    """The words keyword search matches on: content words as Snowball stems ("migraines" meets "migraine")."""
    return [word_stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


_ENGLISH_LOCK = threading.Lock()


def _english() -> Any:
    """An English dictionary (pyspellchecker), loaded once, by one thread (it takes ~30 MB: twenty threads
    asking at once must not each build one); read-only afterwards."""
    with _ENGLISH_LOCK:
        return _load_english()


@cache
def _load_english() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


@cache
def zipf(word: str) -> float:
    """How common a word is in everyday English (wordfreq's Zipf scale: 3 is about once per million words)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


# A word at least this frequent in everyday English (wordfreq's Zipf scale: 3 is about once per million
# words) is a real word, not a typo, and spelling correction leaves it alone: "mag", "lol", "atm".
KNOWN_WORD_ZIPF = 2.5


_LISTED = re.compile(r"[a-z]+(?:'[a-z]+)*")  # the words kept in the file: "mag", "it's"
_HYPHENED = re.compile(r"[a-z']+(?:-[a-z']+)+")
_HAS_DIGIT = re.compile(r"\d")


class CommonWords:
    """The English words at least ``KNOWN_WORD_ZIPF`` common, with their frequencies.

    wordfreq's full English list takes about 50 MB in memory; the ~54,000 words above the threshold (plain
    words and words with an apostrophe, "it's") are taken from it once and kept in a small file in
    ``cache_dir``, so a serving process never loads the list. A word joined by hyphens ("check-up") is
    scored as wordfreq scores it, from its parts (1/f = 1/f1 + 1/f2 + ...: never commoner than its rarest
    part). A word with digits ("b12", "3am") is not counted as a common word. Other words (capitals,
    letters outside English's, rare here) are still asked of wordfreq.
    """

    def __init__(self, known: dict[str, float]) -> None:
        self._known = known  # word -> frequency (a fraction of all words)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        word = word.strip("'")  # a quote's mark ("'backed up'"), a plural's ("diabetics'"), as wordfreq reads it
        if not word:
            return False
        if _LISTED.fullmatch(word):
            return word in self._known
        if _HYPHENED.fullmatch(word):
            parts = [p for p in word.split("-") if p]
            if not all(p in self._known for p in parts):
                return False  # a part rarer than the threshold makes the whole rarer still
            combined = 1.0 / sum(1.0 / self._known[p] for p in parts)
            return round(math.log10(combined) + 9, 2) >= KNOWN_WORD_ZIPF
        if _HAS_DIGIT.search(word) and word.isascii():
            return False
        return zipf(word) >= KNOWN_WORD_ZIPF

    def most_common(self, count: int) -> list[str]:
        """The ``count`` commonest words, commonest first (ties alphabetical)."""
        return sorted(self._known, key=lambda w: (-self._known[w], w))[:count]

    @classmethod
    def load(cls, cache_dir: Path | None) -> CommonWords:
        from importlib.metadata import version

        name = f"common-words-{version('wordfreq')}-{KNOWN_WORD_ZIPF}-v2.txt"
        path = cache_dir / name if cache_dir else None
        if path is not None:
            try:
                lines = path.read_text(encoding="utf-8").split("\n")
                return cls({w: float(f) for w, _, f in (line.partition(" ") for line in lines if line)})
            except (OSError, ValueError):
                pass
        import wordfreq

        table = wordfreq.get_frequency_dict("en", "large")
        known = {
            w: f for w, f in table.items() if _LISTED.fullmatch(w) and round(math.log10(f) + 9, 2) >= KNOWN_WORD_ZIPF
        }
        if path is not None:
            write_cache(path, "\n".join(f"{w} {known[w]!r}" for w in sorted(known)), "the common-word list")
        return cls(known)


def english_correction(word: str) -> str | None:
    """The everyday English word that ``word`` is most likely a misspelling of (edit distance 1), or None."""
    english = _english()
    if word in english:
        return None
    best = english.correction(word)
    return str(best) if best and best != word else None


class Vocabulary:
    """Known words, with typo correction for words it does not know."""

    def __init__(self, terms: Iterable[str], common: CommonWords | None = None, lay: Iterable[str] = ()) -> None:
        self.terms = frozenset(terms)
        self.common = common
        self._prefixes = frozenset(t[:6] for t in self.terms if len(t) >= 6)
        # lay words a misspelling may be meant as too ("sciatia" is "sciatica" as much as "sciatic"), though
        # the sources do not use them
        self._lay = frozenset(lay) - self.terms
        self._targets = self.terms | self._lay
        self._sorted_targets = sorted(self._targets)

    @lru_cache(maxsize=4096)  # noqa: B019 - one vocabulary per index, kept for the process
    def spell(self, word: str) -> str | None:
        """A word of this vocabulary (or a lay word) that ``word`` is a misspelling of, or None.

        Real English words are left alone ("last" is not "least"); a misspelling is only ever corrected to
        a word the corpus uses, so an unknown drug name is never turned into a different known one.
        """
        english = _english()
        if word in english or (word in self.common if self.common else zipf(word) >= KNOWN_WORD_ZIPF):
            return None
        near = [w for w in english.edit_distance_1(word) if w in self._targets]
        if near:  # a lay word first: it is what people type ("sciatia": the complaint, not the nerve)
            return str(max(near, key=lambda w: (w in self._lay, english.word_usage_frequency(w), w)))
        if len(word) < 5:
            return None
        match = process.extractOne(word, self._sorted_targets, scorer=fuzz.ratio, score_cutoff=85)
        return str(match[0]) if match else None

    def covers(self, term: str) -> bool:
        """Whether the term, or a word sharing its first six letters, is known."""
        return term in self.terms or (len(term) >= 6 and term[:6] in self._prefixes)

    def correct_text(self, text: str, keep: frozenset[str] = frozenset()) -> str:
        """The text with misspelt words replaced by the closest known word (``keep`` words stay as typed)."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            lower = word.lower()
            if lower in STOPWORDS or lower in keep or lower in self.terms or len(lower) < 3:
                return word
            return self.spell(lower) or word

        return re.sub(r"[A-Za-z][A-Za-z'-]*", fix, text)
