"""LLM mode: generate from the retrieved passages, verify every sentence, fall back to the extractive answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from magbot._models import Answer, FindingOut, Hit, StreamEvent
from magbot._settings import Settings
from magbot.index.embed import Embedder
from magbot.index.ingest import KnowledgeBase
from magbot.stages.compose import citation_for, closing_notes
from magbot.stages.generate import Context, LLMError, build_contexts, build_messages, stream_reply
from magbot.stages.verify import MARKER, verify

__all__ = ["GenerationInput", "generate_answer"]

log = logging.getLogger(__name__)

NOTICE_DOWN = "The AI model is not available right now, so this answer was assembled from the sources directly."
NOTICE_UNSUPPORTED = (
    "The AI model's answer was not supported well enough by the sources, so this answer was assembled from "
    "them directly."
)


@dataclass(frozen=True)
class GenerationInput:
    """What the composing stage hands to generation: the question, passages, findings and the checked answer."""

    query: str
    hits: list[Hit]
    kb: KnowledgeBase
    vectors: dict[str, np.ndarray]  # sentence and finding vectors, for the support check
    extractive: Answer  # the composed answer: the fallback, and the bottom line the model starts from
    dose: bool
    prefix: str
    findings: Sequence[FindingOut]
    aside: str = ""  # the composed answer's note on what it leaves out, kept after the generated text


def _finding_contexts(p: GenerationInput) -> list[Context]:
    """The composed findings as labelled passages, ahead of the retrieved ones."""
    by_marker = {s.marker: s for s in p.kb.sources}
    out: list[Context] = []
    for f in p.findings:
        source = by_marker.get(f.marker)
        if source is None:
            continue
        index = next((i for i, g in enumerate(source.findings) if g.text == f.text), None)
        keys = (f"finding:{source.id}#{index}",) if index is not None else ()
        out.append(Context(f.marker, (source.id,), f.text, "finding", keys))
    return out


def _fallback(
    p: GenerationInput, notice: str, generated: int = 0, dropped: int = 0, scores: tuple[float, ...] = ()
) -> Answer:
    return p.extractive.model_copy(
        update={
            "notice": notice,
            "generated_sentences": generated,
            "dropped_sentences": dropped,
            "support_scores": list(scores),
        }
    )


def generate_answer(
    p: GenerationInput, chat_model: Any, settings: Settings, embedder: Embedder
) -> Iterator[StreamEvent]:
    """Stream the model's reply, then replace it with the verified text (or the extractive answer)."""
    kb = p.kb
    contexts = _finding_contexts(p) + build_contexts(p.hits, kb)
    pieces: list[str] = []
    try:
        for piece in stream_reply(
            chat_model,
            build_messages(p.query, contexts, p.extractive.bottom_line),
            settings.llm_timeout,
            settings.llm_max_tokens,
        ):
            pieces.append(piece)
            yield StreamEvent("delta", piece)
    except LLMError as exc:
        log.warning("LLM unavailable, answering extractively: %s", exc)
        answer = _fallback(p, NOTICE_DOWN)
        yield StreamEvent("replace", answer.answer)
        yield StreamEvent("answer", answer=answer)
        return
    reply = "".join(pieces)
    checked = verify(reply, contexts, p.vectors, embedder, settings.llm_support_threshold)
    generated = checked.kept + checked.dropped
    log.info("LLM reply: %d sentences, %d kept; dropped for: %s", generated, checked.kept, checked.reasons)
    if checked.kept == 0 or checked.kept * 2 < generated:
        answer = _fallback(p, NOTICE_UNSUPPORTED, generated, checked.dropped, checked.scores)
        yield StreamEvent("replace", answer.answer)
        yield StreamEvent("answer", answer=answer)
        return
    by_marker = {s.marker: s for s in kb.sources}
    bottom = p.extractive.bottom_line
    body = (bottom + "\n\n" if bottom else "") + checked.text
    in_order = dict.fromkeys(f"[{m}]" for m in MARKER.findall(body))
    sources = [by_marker[m] for m in in_order if m in by_marker]
    quotes = {
        s.id: " … ".join(dict.fromkeys(c.text for c in contexts if s.id in c.source_ids))
        or next((c.quote for c in p.extractive.citations if c.id == s.id), "")
        for s in sources
    }
    text = p.prefix + body + (f"\n\n{p.aside}" if p.aside else "") + closing_notes(sources, p.dose)
    notice = None
    if checked.dropped:
        notice = (
            f"magbot checked this answer against the cited studies and removed {checked.dropped} "
            f"sentence{'s' if checked.dropped > 1 else ''} they did not support."
        )
    answer = p.extractive.model_copy(
        update={
            "answer": text,
            "citations": [citation_for(s, quotes[s.id]) for s in sources],
            "mode": "llm",
            "generated_sentences": generated,
            "dropped_sentences": checked.dropped,
            "notice": notice,
            "support_scores": list(checked.scores),
        }
    )
    if text != reply:
        yield StreamEvent("replace", text)
    yield StreamEvent("answer", answer=answer)
