"""Stage 1, screening: is the input readable, does it carry instructions for the bot, is it an emergency?

Emergencies are caught twice: by the phrase patterns in ``safety`` (unless the message puts them long in
the past or asks a general question: "a seizure at 19", "research on suicide risk") and by meaning, with a
model trained on ``knowledge/safety/emergencies.yaml`` (emergencies, and calm messages that use the same
alarming words; the intent examples other than safety count as ordinary questions), so "my husband's smile has gone
lopsided" is one without matching any phrase. A missed emergency costs more than a false alarm;
``MAGBOT_URGENT_COST`` says how much more, and the decision threshold follows from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from magbot.stages.banks import Bank, Banks, fit_cached
from magbot.stages.safety import (
    CUE_PATTERNS,
    UrgentCues,
    asking_sentences,
    normalise,
    strip_injection,
    urgent_cues,
    validate,
)

__all__ = ["EmergencyModel", "Screened", "screen"]


@dataclass(frozen=True)
class Screened:
    """The input after screening: either a problem to report, or a question to answer."""

    question: str  # normalised text, shown back to the user
    problem: str | None = None  # why the input is invalid
    cues: UrgentCues | None = None  # what the emergency phrase patterns see
    cleaned: str = ""  # the question with instructions to the bot removed
    injected: bool = False


def screen(raw: object, max_chars: int) -> Screened:
    """Validate, normalise, note emergency cues and strip instructions aimed at the bot."""
    shown = raw if isinstance(raw, str) and len(raw) <= max_chars else ""
    check = validate(raw, max_chars)
    if check.problem:
        return Screened(shown.replace("\x00", ""), problem=check.problem)
    assert isinstance(raw, str)
    question = normalise(raw)
    cleaned, injected = strip_injection(question)
    if injected:  # what is left of the instructions ("reply in pirate speak.") is not the question either
        cleaned = asking_sentences(cleaned) or cleaned
    return Screened(question, cues=urgent_cues(question), cleaned=cleaned, injected=injected)


def _top_mean(sims: np.ndarray, k: int = 3) -> float:
    """Mean of the ``k`` highest similarities: closeness to a group, less swayed by one odd example."""
    return float(np.sort(sims)[-k:].mean())


def _pairwise(features: np.ndarray) -> np.ndarray:
    """1, a, b, a², ab, b² for each row (a, b): a boundary that can bend."""
    a, b = features[:, 0], features[:, 1]
    return np.column_stack([np.ones_like(a), a, b, a * a, a * b, b * b])


def _cue_terms(cues: UrgentCues) -> list[float]:
    """The cues the emergency model weighs beside similarity: told as long past, asked in general, going on
    for months or years, alarming phrases all negated, and the asker saying they feel fine."""
    return [float(cues.past), float(cues.general), float(cues.long_standing), float(cues.denied), float(cues.well)]


class EmergencyModel:
    """P(emergency | message), learnt from labelled examples; decides with a stated cost ratio.

    A message is described by two numbers: its mean similarity to the three nearest emergency examples
    and to the three nearest ordinary ones (a calm example or an intent example), and by five cues the
    phrase patterns read: it puts what it tells long in the past, it asks generally (for a course, out of
    curiosity), it says something has gone on for months or years, every alarming phrase in it is
    negated, or the asker says they feel fine now. A logistic regression (pairwise terms of the
    similarities, plus the cues) is fitted to the examples themselves, each scored against the others
    (leave-one-out), so how much "two years ago" weighs comes from the examples, not from a hand-set rule.
    A few features instead of the raw embedding keep it sane far from every example: a message about
    football is near neither group.
    """

    def __init__(
        self, banks: Banks, cost_ratio: float, questions: Bank | None = None, cache_dir: Path | None = None
    ) -> None:
        bank = banks.emergencies
        is_emergency = np.array([lab.startswith("emergency:") for lab in bank.labels])
        self._positive = bank.vectors[is_emergency]
        # Ordinary questions: the calm examples, every intent example (a question about side effects or
        # another medicine is a question, not an emergency) and the studies' example questions.
        extra = questions.vectors if questions is not None else np.zeros((0, bank.vectors.shape[1]), dtype=np.float32)
        self._ordinary = np.vstack([bank.vectors[~is_emergency], banks.intents.vectors, extra])
        texts = [
            *(t for t, e in zip(bank.texts, is_emergency, strict=True) if e),
            *(t for t, e in zip(bank.texts, is_emergency, strict=True) if not e),
            *banks.intents.texts,
            *(questions.texts if questions is not None else ()),
        ]
        self._texts = texts  # their cues are read only when fitting (the phrase patterns take a second)
        self._self_harm = bank.vectors[np.array([lab == "emergency:self_harm" for lab in bank.labels])]
        # named by the examples, their texts and the patterns that read the cues: any change means a new fit
        width = str(len(_cue_terms(urgent_cues(""))))  # and by how many cues it weighs
        key = np.frombuffer(hashlib.sha256("\0".join([CUE_PATTERNS, width, *texts]).encode()).digest(), dtype=np.uint8)
        params = fit_cached("emergency", [self._positive, self._ordinary, key], self._fit, cache_dir)
        self._mean, self._scale = params["mean"], params["scale"]
        self._coef, self._intercept = params["coef"], float(params["intercept"][0])
        # Flag when P(emergency) * cost_of_missing > P(ordinary) * cost_of_false_alarm.
        self.threshold = 1.0 / (1.0 + cost_ratio)

    def _fit(self) -> dict[str, np.ndarray]:
        """Standardised pairwise terms of the two features, then a logistic regression (scikit-learn)."""
        from sklearn.linear_model import LogisticRegression

        examples = np.vstack([self._positive, self._ordinary])
        labels = np.array([True] * len(self._positive) + [False] * len(self._ordinary))
        similarities = _pairwise(np.array([self._features(v, skip=i) for i, v in enumerate(examples)]))
        cues = np.array([_cue_terms(urgent_cues(t)) for t in self._texts], dtype=np.float64)
        terms = np.hstack([similarities, cues])
        mean, scale = terms.mean(axis=0), terms.std(axis=0)
        scale[scale == 0] = 1.0
        model = LogisticRegression(max_iter=2000).fit((terms - mean) / scale, labels)
        return {"mean": mean, "scale": scale, "coef": model.coef_[0], "intercept": model.intercept_}

    def _features(self, vector: np.ndarray, skip: int | None = None) -> list[float]:
        pos = self._positive @ vector
        neg = self._ordinary @ vector
        if skip is not None:  # leave the example itself out
            if skip < len(pos):
                pos = np.delete(pos, skip)
            else:
                neg = np.delete(neg, skip - len(pos))
        return [_top_mean(pos), _top_mean(neg)]

    def probability(self, vector: np.ndarray, cues: UrgentCues) -> float:
        terms = np.hstack([_pairwise(np.array([self._features(vector)]))[0], _cue_terms(cues)])
        z = float(((terms - self._mean) / self._scale) @ self._coef)
        return float(1.0 / (1.0 + np.exp(-(z + self._intercept))))

    def kind(self, vector: np.ndarray, cues: UrgentCues) -> str | None:
        """ "self-harm", "emergency" or None: the phrase cues first, then the meaning."""
        context = cues.past or cues.general  # "a seizure at 19", "research on suicide risk"
        # "just curious" does not take back "I've written letters to my kids": only the past or talk of
        # research with nobody present does
        if cues.self_harm and not (cues.past or cues.about_research):
            return "self-harm"
        if cues.pattern and not context:
            return self._which(vector)
        # a child near tablets, every one accounted for and nothing swallowed: no ingestion to fear; and
        # an animal that ate something is for a vet, unless an emergency phrase says a person is in danger
        if not (cues.accounted or cues.pet) and self.probability(vector, cues) >= self.threshold:
            return self._which(vector)
        return None

    def _which(self, vector: np.ndarray) -> str:
        """A crisis or another emergency: whichever kind of example is nearest."""
        nearest_self_harm = float((self._self_harm @ vector).max()) if len(self._self_harm) else -1.0
        return "self-harm" if nearest_self_harm >= float((self._positive @ vector).max()) else "emergency"
