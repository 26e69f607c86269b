"""Stage 1, screening: is the input readable, is it an emergency, does it carry instructions for the bot?

Emergencies are caught twice: by the phrase patterns in ``safety`` (before any model runs) and by meaning,
with a logistic regression trained at start-up on ``knowledge/safety/emergencies.yaml`` (emergencies and
calm messages that mention the same body parts and symptoms) plus the intent examples as ordinary
questions. A missed emergency costs more than a false alarm; ``MAGBOT_URGENT_COST`` says how much more,
and the decision threshold follows from it (Bayes' rule on calibrated probabilities), not from a hand-set
similarity cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .banks import Banks
from .safety import normalise, strip_injection, urgent_kind, validate

__all__ = ["EmergencyModel", "Screened", "screen"]


@dataclass(frozen=True)
class Screened:
    """The input after screening: either a problem to report, or a question to answer."""

    question: str  # normalised text, shown back to the user
    problem: str | None = None  # why the input is invalid
    urgent: str | None = None  # "emergency" or "self-harm" when a pattern matched
    cleaned: str = ""  # the question with instructions to the bot removed
    injected: bool = False


def screen(raw: object, max_chars: int) -> Screened:
    """Validate, normalise, look for emergency phrases and strip instructions aimed at the bot."""
    shown = raw if isinstance(raw, str) and len(raw) <= max_chars else ""
    check = validate(raw, max_chars)
    if check.problem:
        return Screened(shown.replace("\x00", ""), problem=check.problem)
    assert isinstance(raw, str)
    question = normalise(raw)
    kind = urgent_kind(question)
    if kind:
        return Screened(question, urgent=kind)
    cleaned, injected = strip_injection(question)
    return Screened(question, cleaned=cleaned, injected=injected)


def _top_mean(sims: np.ndarray, k: int = 3) -> float:
    """Mean of the ``k`` highest similarities: closeness to a group, less swayed by one odd example."""
    return float(np.sort(sims)[-k:].mean())


class EmergencyModel:
    """P(emergency | message), learnt from labelled examples; decides with a stated cost ratio.

    A message is described by two numbers: its mean similarity to the three nearest emergency examples and
    to the three nearest ordinary ones (a calm example or an intent example). A logistic regression on those two
    features is fitted to the examples themselves, each scored against the others (leave-one-out), so the
    boundary comes from data. Two features instead of the raw embedding keep it sane far from every
    example: a message about football is near neither group and is not an emergency.
    """

    def __init__(self, banks: Banks, cost_ratio: float) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures, StandardScaler

        bank = banks.emergencies
        is_emergency = np.array([lab.startswith("emergency:") for lab in bank.labels])
        self._positive = bank.vectors[is_emergency]
        self._ordinary = np.vstack([bank.vectors[~is_emergency], banks.intents.vectors])
        examples = np.vstack([self._positive, self._ordinary])
        labels = np.array([True] * len(self._positive) + [False] * len(self._ordinary))
        features = np.array([self._features(v, skip=i) for i, v in enumerate(examples)])
        self._model: Any = make_pipeline(PolynomialFeatures(2), StandardScaler(), LogisticRegression())
        self._model.fit(features, labels)
        # Flag when P(emergency) * cost_of_missing > P(ordinary) * cost_of_false_alarm.
        self.threshold = 1.0 / (1.0 + cost_ratio)

    def _features(self, vector: np.ndarray, skip: int | None = None) -> list[float]:
        pos = self._positive @ vector
        neg = self._ordinary @ vector
        if skip is not None:  # leave the example itself out
            if skip < len(pos):
                pos = np.delete(pos, skip)
            else:
                neg = np.delete(neg, skip - len(pos))
        return [_top_mean(pos), _top_mean(neg)]

    def probability(self, vector: np.ndarray) -> float:
        return float(self._model.predict_proba(np.array([self._features(vector)]))[0, 1])

    def is_emergency(self, vector: np.ndarray) -> bool:
        return self.probability(vector) >= self.threshold
