"""A basic Gradio chat over the pipeline. The chat logic is plain functions, tested without a browser."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any

from ._models import Answer, Turn
from ._settings import Settings
from .embed import offline_environment
from .pipeline import Magbot

log = logging.getLogger(__name__)

STARTERS = [
    "Does magnesium help nerve pain?",
    "What did the back pain trial find?",
    "Is low magnesium linked to nerve function in diabetes?",
    "How much magnesium did the studies use?",
]
_STATUS_HEADINGS = {
    "urgent": "**⚠️ Urgent: get emergency help now**",
    "not_in_sources": "**Not covered by magbot's sources**",
    "out_of_scope": "**Outside what magbot covers**",
    "invalid": "**Please check your question**",
}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list):
        return " ".join(_text_of(part) for part in content)
    return ""


def history_to_turns(history: list[Any] | None) -> list[Turn]:
    """Gradio's message history (dicts or message objects) as magbot turns."""
    turns: list[Turn] = []
    for message in history or []:
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
        text = _text_of(content).strip()
        if role in ("user", "assistant") and text:
            turns.append(Turn(role=role, content=text[:20_000]))
    return turns


def _md(text: str) -> str:
    """Escape text so that neither HTML nor Markdown links or images in it can take effect."""
    escaped = html.escape(text, quote=False)
    for ch in "\\`*_[]()!<>#|":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped.replace("\\[", "[").replace("\\]", "]")  # markers stay readable; no "(" follows them


def render(answer: Answer) -> str:
    """The answer as chat Markdown: heading by status, text with markers, numbered source list."""
    parts = []
    if answer.status in _STATUS_HEADINGS:
        parts.append(_STATUS_HEADINGS[answer.status])
    parts.append(_md(answer.answer).replace("\n\n", "\n\n"))
    if answer.citations:
        lines = ["**Sources**"]
        for c in answer.citations:
            title = _md(c.title)
            link = f"[{title}]({c.url})" if c.url else title
            lines.append(
                f"- {c.marker} {_md(c.authors)} ({c.year}). {link}. *{_md(c.journal or '')}*. "
                f"**{_md(c.evidence_label)}**: {_md(c.evidence_note or '')}"
            )
        parts.append("\n".join(lines))
    parts.append(f"_{_md(answer.disclaimer)}_")
    return "\n\n".join(parts)


def make_chat_fn(bot: Magbot) -> Callable[[str, list[Any] | None], str]:
    def chat(message: str, history: list[Any] | None) -> str:
        try:
            return render(bot.ask(message, history_to_turns(history)))
        except Exception:
            log.exception("answering failed")
            return "Sorry, magbot hit a problem answering that. Please try again in a moment."

    return chat


def build_app(bot: Magbot) -> Any:
    offline_environment()
    import gradio as gr

    return gr.ChatInterface(
        make_chat_fn(bot),
        title="magbot: magnesium and nerve pain, with citations",
        description=(
            "Answers come only from one consumer-health article and the 9 studies it cites, each with its "
            "citation and a note on how strong the study is. **Not medical advice.**"
        ),
        examples=STARTERS,
        run_examples_on_click=True,
        flagging_mode="never",
        analytics_enabled=False,
    )


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    bot = Magbot(settings)
    bot.open()
    app = build_app(bot)
    log.warning("magbot ready on http://%s:%s", host or settings.host, port or settings.port)
    app.launch(server_name=host or settings.host, server_port=port or settings.port, show_error=False)
