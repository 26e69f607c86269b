"""``magbot eval``: run the dev and test splits in ``eval/`` and score citations, statuses and bottom lines.

``eval/dev.yaml`` is what magbot is tuned on; ``eval/test.yaml`` was written by someone who never saw the
code and is only ever measured, never tuned on. Report the test split.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from magbot._errors import KnowledgeError
from magbot._models import Answer, Turn
from magbot._settings import bundled
from magbot._yaml import safe_load
from magbot.pipeline import Magbot

EVAL_DIR = bundled("eval")
SPLITS = {"dev": EVAL_DIR / "dev.yaml", "test": EVAL_DIR / "test.yaml"}
DEFAULT_SET = SPLITS["dev"]
DECLINES = {"not_in_sources", "out_of_scope"}


class EvalItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    cat: str
    q: str
    status: str | list[str]
    expect: list[str] = Field(default_factory=list)
    relevant: list[str] = Field(default_factory=list)
    history: list[Turn] = Field(default_factory=list)
    conversation: list[str] = Field(default_factory=list)  # earlier user messages, answered by magbot in turn

    @property
    def statuses(self) -> set[str]:
        return {self.status} if isinstance(self.status, str) else set(self.status)


@dataclass
class ItemResult:
    item: EvalItem
    answer: Answer
    status_ok: bool
    hit: bool | None
    cited: list[str]
    relevant_cited: int


@dataclass
class Report:
    results: list[ItemResult] = field(default_factory=list)

    def _rate(self, pairs: list[bool]) -> float:
        return sum(pairs) / len(pairs) if pairs else 1.0

    @property
    def hit_rate(self) -> float:
        return self._rate([bool(r.hit) for r in self.results if r.hit is not None])

    @property
    def precision(self) -> float:
        cited = sum(len(r.cited) for r in self.results if r.hit is not None)
        good = sum(r.relevant_cited for r in self.results if r.hit is not None)
        return good / cited if cited else 1.0

    @property
    def decline_accuracy(self) -> float:
        return self._rate([r.status_ok for r in self.results if r.item.statuses <= DECLINES])

    @property
    def urgent_accuracy(self) -> float:
        return self._rate([r.status_ok for r in self.results if r.item.statuses == {"urgent"}])

    @property
    def false_alarms(self) -> int:
        """Questions marked urgent that are not emergencies."""
        return sum(1 for r in self.results if r.answer.status == "urgent" and "urgent" not in r.item.statuses)

    @property
    def bottom_line_rate(self) -> float:
        return self._rate([bool(r.answer.bottom_line.strip()) for r in self.results if r.answer.status == "answered"])

    @property
    def status_accuracy(self) -> float:
        return self._rate([r.status_ok for r in self.results])

    @property
    def mean_latency_ms(self) -> float:
        return sum(r.answer.latency_ms for r in self.results) / max(1, len(self.results))

    @property
    def llm_answers(self) -> list[Answer]:
        return [r.answer for r in self.results if r.answer.generated_sentences > 0]

    def llm_table(self, chosen: float) -> str:
        """Generated-answer figures, and how many sentences each support threshold would keep."""
        answers = self.llm_answers
        generated = sum(a.generated_sentences for a in answers)
        kept = generated - sum(a.dropped_sentences for a in answers)
        fallbacks = sum(1 for a in answers if a.mode == "extractive")
        scores = [x for a in answers for x in a.support_scores]
        lines = [
            f"LLM answers             {len(answers):>9}  questions that reached the model",
            f"sentences kept          {kept / max(1, generated):>9.3f}  {kept} of {generated} generated",
            f"fallback rate           {fallbacks / max(1, len(answers)):>9.3f}  answered extractively instead",
            f"mean latency (LLM)      {sum(a.latency_ms for a in answers) / max(1, len(answers)):>6.0f} ms",
            f"support threshold       {chosen:>9.2f}  (MAGBOT_LLM_SUPPORT_THRESHOLD); sentences kept at each:",
        ]
        for t in (0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70):
            share = sum(1 for x in scores if x >= t) / max(1, generated)
            lines.append(f"    >= {t:.2f}: {share:.3f}")
        return "\n".join(lines)

    def miss_kinds(self) -> str:
        """Why answerable questions missed, as counts only (safe to print for the test split)."""
        kinds: dict[str, int] = {}
        for r in self.results:
            if r.hit is False:
                status = r.answer.status
                kind = "another study" if status == "answered" else "declined" if status in DECLINES else status
                kinds[kind] = kinds.get(kind, 0) + 1
        return ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"

    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if not r.status_ok or r.hit is False or r.relevant_cited < len(r.cited)]

    def table(self, verbose: bool = True) -> str:
        answerable = sum(1 for r in self.results if r.hit is not None)
        rows = [
            ("questions", f"{len(self.results)}", ""),
            ("citation hit rate", f"{self.hit_rate:.3f}", f"{answerable} answerable; goal >= 0.95"),
            ("citation precision", f"{self.precision:.3f}", "goal >= 0.90"),
            ("decline accuracy", f"{self.decline_accuracy:.3f}", "goal >= 0.95"),
            ("urgent accuracy", f"{self.urgent_accuracy:.3f}", "goal 1.00"),
            ("calm marked urgent", f"{self.false_alarms}", "goal 0"),
            ("bottom line present", f"{self.bottom_line_rate:.3f}", "answered answers; goal 1.00"),
            ("status accuracy", f"{self.status_accuracy:.3f}", "all questions"),
            ("mean latency", f"{self.mean_latency_ms:.1f} ms", ""),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"{'metric':<{width}}  {'value':>9}  note", "-" * (width + 30)]
        lines += [f"{name:<{width}}  {value:>9}  {note}" for name, value, note in rows]
        lines.append(f"{'answerable missed by':<{width}}  {self.miss_kinds()}")
        misses = self.failures()
        lines.append(f"missed or imprecise: {len(misses)}")
        for r in misses if verbose else []:
            lines.append(f"  miss {r.item.id}: status={r.answer.status} cited={r.cited} expected={r.item.expect}")
        return "\n".join(lines)


def load_items(path: Path = DEFAULT_SET) -> list[EvalItem]:
    try:
        raw: Any = safe_load(path.read_text(encoding="utf-8"))
        return [EvalItem.model_validate(x) for x in raw]
    except (OSError, yaml.YAMLError, ValueError, TypeError) as exc:
        raise KnowledgeError(path, f"unusable question set: {exc}".splitlines()[0]) from exc


def run_eval(bot: Magbot, items: list[EvalItem]) -> Report:
    report = Report()
    for item in items:
        history = list(item.history)
        for earlier in item.conversation:  # a conversation: magbot answers each earlier message first
            reply = bot.ask(earlier, history)
            history += [Turn(role="user", content=earlier), Turn(role="assistant", content=reply.answer)]
        answer = bot.ask(item.q, history)
        cited = [c.id for c in answer.citations]
        answerable = item.statuses == {"answered"}
        hit = bool(set(cited) & set(item.expect)) if answerable else None
        ok_ids = set(item.expect) | set(item.relevant)
        report.results.append(
            ItemResult(item, answer, answer.status in item.statuses, hit, cited, sum(1 for c in cited if c in ok_ids))
        )
    return report
