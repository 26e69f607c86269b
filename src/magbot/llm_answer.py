"""LLM mode: generate from the retrieved passages, verify every sentence, fall back to the extractive answer."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._models import Answer, StreamEvent
from .answer import citation_for, closing_notes
from .generate import LLMError, build_contexts, build_messages, stream_reply
from .verify import verify

if TYPE_CHECKING:
    from .pipeline import Magbot, _Prepared

log = logging.getLogger(__name__)

NOTICE_DOWN = "The AI model is not available right now, so this answer was assembled from the sources directly."
NOTICE_UNSUPPORTED = (
    "The AI model's answer was not supported well enough by the sources, so this answer was assembled from "
    "them directly."
)


def _fallback(
    p: _Prepared, notice: str, generated: int = 0, dropped: int = 0, scores: tuple[float, ...] = ()
) -> Answer:
    return p.extractive.model_copy(
        update={
            "notice": notice,
            "generated_sentences": generated,
            "dropped_sentences": dropped,
            "support_scores": list(scores),
        }
    )


def generate_answer(bot: Magbot, p: _Prepared) -> Iterator[StreamEvent]:
    """Stream the model's reply, then replace it with the verified text (or the extractive answer)."""
    settings, kb = bot.settings, p.ready.kb
    contexts = build_contexts(p.hits, kb)
    pieces: list[str] = []
    try:
        for piece in stream_reply(
            bot.llm(), build_messages(p.query, contexts), settings.llm_timeout, settings.llm_max_tokens
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
    checked = verify(reply, contexts, p.ready.vectors, bot.embedder, settings.llm_support_threshold)
    generated = checked.kept + checked.dropped
    log.info("LLM reply: %d sentences, %d kept; dropped for: %s", generated, checked.kept, checked.reasons)
    if checked.kept == 0 or checked.kept * 2 < generated:
        answer = _fallback(p, NOTICE_UNSUPPORTED, generated, checked.dropped, checked.scores)
        yield StreamEvent("replace", answer.answer)
        yield StreamEvent("answer", answer=answer)
        return
    by_marker = {s.marker: s for s in kb.sources}
    sources = [by_marker[m] for m in checked.cited if m in by_marker]
    quotes = {s.id: " … ".join(dict.fromkeys(c.text for c in contexts if s.id in c.source_ids)) for s in sources}
    text = p.prefix + checked.text + closing_notes(sources, p.dose)
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
