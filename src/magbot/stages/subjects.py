"""Which of a question's unknown words name a subject (something the sources could cover) rather than chat.

A logistic regression on the labelled words of ``words.yaml`` reads a word's embedding. The verdicts on the
commonest English words are worked out once, ahead of any question, and kept in the model cache: a typed
question's unknown words are mostly everyday ones, and each one found there spares a run of the model.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from magbot._cache import write_cache
from magbot.stages.banks import Banks, fit_cached
from magbot.stages.coverage import judged_by_meaning
from magbot.text import CommonWords

log = logging.getLogger(__name__)

__all__ = ["WORD_TABLE_SIZE", "SubjectModel"]


# How many of the commonest English words get their verdict once, ahead of any question (see ``SubjectModel``).
# The unknown words of typed questions are mostly everyday ones; on the benchmark's 300 typed questions the
# commonest 10,000 cover 75% of them and leave every unknown word of 51% of the questions that have any in the
# table, 20,000 cover 88% and 72%, 50,000 cover 95% and 88%. Judging costs about 0.7 ms a word on 2 CPUs, once
# per model cache: 20,000 (some 16,000 left after ``judged_by_meaning``) is about 15 s.
WORD_TABLE_SIZE = 20_000
# Change when which words are judged changes (``judged_by_meaning``, the word list): the file's name follows it.
TABLE_RECIPE = "common-words-v1"


class SubjectModel:
    """P(a word names a subject rather than chat), from the labelled words in ``words.yaml``.

    A logistic regression (scikit-learn) fitted once per set of examples; its weights are cached, and
    predicting is one dot product. Given the model (``embed``) and the English word list, the verdicts on the
    commonest words are worked out once and kept in ``table_dir`` (``known``), named by a hash of the weights,
    the model and the words, so a question's everyday unknown words need no run of the model.
    """

    def __init__(
        self,
        banks: Banks,
        cache_dir: Path | None = None,
        *,
        embed: Callable[[Sequence[str]], np.ndarray] | None = None,
        model: str = "",
        common: CommonWords | None = None,
        table_dir: Path | None = None,
    ) -> None:
        bank = banks.words
        labels = np.array([lab == "subject" for lab in bank.labels])

        def fit() -> dict[str, np.ndarray]:
            from sklearn.linear_model import LogisticRegression

            fitted = LogisticRegression(max_iter=2000).fit(bank.vectors, labels)
            return {"coef": fitted.coef_[0], "intercept": fitted.intercept_}

        params = fit_cached("subject", [bank.vectors, labels], fit, cache_dir)
        self._coef = params["coef"].astype(np.float64)
        self._intercept = float(params["intercept"][0])
        self.known: dict[str, bool] = {}  # verdicts worked out ahead: word -> names a subject
        if embed is not None and common is not None and table_dir is not None:
            self.known = self._table(embed, model, common, table_dir)
        # a word the file labels is what the file says, whatever the regression makes of it (a person editing
        # words.yaml to fix a misjudged word sees it fixed)
        self.known.update(zip(bank.texts, labels.tolist(), strict=True))
        self.labelled = frozenset(bank.texts)  # ... and is never read as a misspelling of another word

    def is_subject(self, vectors: np.ndarray) -> list[bool]:
        if not len(vectors):
            return []
        return [bool(z >= 0.0) for z in vectors.astype(np.float64) @ self._coef + self._intercept]

    def _table(
        self, embed: Callable[[Sequence[str]], np.ndarray], model: str, common: CommonWords, table_dir: Path
    ) -> dict[str, bool]:
        from importlib.metadata import version

        # named by what makes it, so a start that finds it reads a file and works nothing out
        made_by = [TABLE_RECIPE, str(WORD_TABLE_SIZE), version("wordfreq"), model, self._coef.tobytes().hex()]
        digest = hashlib.sha256("\0".join([*made_by, repr(self._intercept)]).encode()).hexdigest()[:20]
        path = table_dir / f"subject-words-{digest}.txt"
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
            return {w: flag == "1" for flag, _, w in (line.partition(" ") for line in lines if line)}
        except OSError:
            pass
        candidates = [w for w in common.most_common(WORD_TABLE_SIZE) if judged_by_meaning(w)]
        started = time.monotonic()
        log.info("judging the %d commonest English words once (about 15 s on 2 CPUs): %s", len(candidates), path)
        verdicts = self.is_subject(embed(candidates))
        lines = [f"{int(v)} {w}" for w, v in zip(candidates, verdicts, strict=True)]
        write_cache(path, "\n".join(lines), "word verdicts")
        log.info("judged in %.1f s", time.monotonic() - started)
        return dict(zip(candidates, verdicts, strict=True))
