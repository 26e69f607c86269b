"""Presentation: how an answer object is shown, for every front end.

One banner table, one certainty wording, one link rule (a citation's own PubMed, PMC or DOI ``https``
address and nothing else becomes a link), one way to name a source. The CLI prints ``as_text``, the web
chat shows ``as_html``, and the widget renders the JSON answer with the strings of ``widget_config``
(served at ``/api/config``), so no front end keeps its own copy.
"""

from __future__ import annotations

import html
import re
from typing import Any

from magbot._models import EVIDENCE_LABELS, Answer, Citation

__all__ = [
    "CERTAINTY_LABELS",
    "STARTERS",
    "STATUS_BANNERS",
    "as_html",
    "as_text",
    "help_text",
    "paragraphs_html",
    "safe_url",
    "source_line",
    "widget_config",
]

STATUS_BANNERS = {
    "urgent": ("urgent", "Urgent: get emergency help now"),
    "not_in_sources": ("decline", "Not covered by magbot's sources"),
    "out_of_scope": ("decline", "Outside what magbot covers"),
    "invalid": ("decline", "Please check your question"),
}
CERTAINTY_LABELS = {
    "moderate": "Certainty: moderate",
    "low": "Certainty: low",
    "very_low": "Certainty: very low",
    "not_studied": "Certainty: not tested in people by these sources",
}
STARTERS = [
    "Does magnesium help nerve pain?",
    "What did the back pain trial find?",
    "Is low magnesium linked to nerve function in diabetes?",
    "How much magnesium did the studies use?",
]
SAFE_LINK = re.compile(r"^https://(pubmed\.ncbi\.nlm\.nih\.gov|pmc\.ncbi\.nlm\.nih\.gov|doi\.org)/")
_E = html.escape


def help_text(studies: int) -> str:
    """What magbot can help with, said after a decline."""
    examples = " · ".join(f"“{q}”" for q in STARTERS[:3])
    return (
        f"magbot can tell you what one article on magnesium and nerve pain and its {studies} studies say. "
        f"Try: {examples}"
    )


def safe_url(c: Citation | dict[str, Any]) -> str | None:
    """The citation's own PubMed, PMC or DOI address, or None: nothing else is ever a link."""
    url = (c.url if isinstance(c, Citation) else c.get("url")) or ""
    return url if SAFE_LINK.match(url) else None


def source_line(c: Citation | dict[str, Any]) -> str:
    """One line naming a source (``Source.label``): the article by its title, a study as "Authors (year).
    Title. Journal." The widget shows the same ``label`` field."""
    d = c.model_dump() if isinstance(c, Citation) else c
    return str(d.get("label") or d.get("title") or "")


def as_text(answer: Answer) -> str:
    """The answer as a person reads it in a terminal."""
    lines = []
    if answer.status in STATUS_BANNERS:
        lines += [f"[{STATUS_BANNERS[answer.status][1]}]", ""]
    if answer.notice:
        lines += [answer.notice, ""]
    lines.append(answer.answer)
    if answer.certainty and answer.status == "answered":
        lines += ["", CERTAINTY_LABELS[answer.certainty]]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append(f"{c.marker} {source_line(c)}")
            lines.append(f"    {c.evidence_label}: {c.evidence_note}")
            url = safe_url(c)
            if url:
                lines.append(f"    {url}")
    lines += ["", answer.disclaimer]
    return "\n".join(lines)


def paragraphs_html(text: str) -> str:
    """Paragraphs as <p>; lines starting with "- " as a list under the line before them. All escaped."""
    out = []
    for block in (b for b in text.split("\n\n") if b.strip()):
        lines = block.split("\n")
        items = [line[2:] for line in lines if line.startswith("- ")]
        lead = " ".join(line for line in lines if not line.startswith("- "))
        out.append(f"<p>{_E(lead)}</p>" if lead else "")
        if items:
            out.append("<ul>" + "".join(f"<li>{_E(i)}</li>" for i in items) + "</ul>")
    return "".join(out)


def source_card(c: Citation | dict[str, Any]) -> str:
    """One numbered source card as HTML. Every value is escaped; only ``safe_url`` becomes a link."""
    d = c.model_dump() if isinstance(c, Citation) else c
    url = safe_url(d)
    name = _E(source_line(d))
    link = f'<a href="{_E(url)}" target="_blank" rel="noopener noreferrer">{name}</a>' if url else name
    level = str(d.get("evidence_level") or "article")
    return (
        f'<div class="mb-card"><div class="mb-card-head"><span class="mb-marker">{_E(d["marker"])}</span> '
        f'<span class="mb-badge mb-{_E(level)}">{_E(d.get("evidence_label") or EVIDENCE_LABELS.get(level, level))}'
        f'</span></div><div class="mb-title">{link}</div>'
        f'<div class="mb-note">{_E(d.get("evidence_note") or "")}</div>'
        f"<details><summary>Supporting passage</summary><blockquote>{_E(d.get('quote') or '')}</blockquote>"
        "</details></div>"
    )


def as_html(answer: Answer, studies: int) -> str:
    """The answer as safe chat HTML: banner, bottom line with certainty, text, source cards, disclaimer."""
    parts = []
    if answer.status in STATUS_BANNERS:
        kind, title = STATUS_BANNERS[answer.status]
        parts.append(f'<div class="mb-banner mb-{kind}"><strong>{_E(title)}</strong></div>')
    if answer.notice:
        parts.append(f'<p class="mb-check">{_E(answer.notice)}</p>')
    bottom = answer.bottom_line
    if bottom and answer.answer.startswith(bottom):  # the bottom line first and prominent
        label = CERTAINTY_LABELS.get(answer.certainty or "")
        certainty = f' <span class="mb-certainty">{_E(label)}</span>' if label else ""
        parts.append(f'<p class="mb-bottom"><strong>{_E(bottom)}</strong>{certainty}</p>')
        parts.append(paragraphs_html(answer.answer[len(bottom) :]))
    else:
        parts.append(paragraphs_html(answer.answer))
    if answer.status in ("not_in_sources", "out_of_scope"):
        parts.append(f'<p class="mb-help">{_E(help_text(studies))}</p>')
    if answer.citations:
        parts.append(
            '<div class="mb-sources"><strong>Sources</strong>'
            + "".join(source_card(c) for c in answer.citations)
            + "</div>"
        )
    parts.append(f'<p class="mb-disclaimer">{_E(answer.disclaimer)}</p>')
    return "".join(parts)


def widget_config(history_items: int, stored_notice: str, reasons: tuple[str, ...], studies: int) -> dict[str, Any]:
    """What the widget needs to show answers the same way (``GET /api/config``)."""
    return {
        "banners": {status: {"kind": kind, "title": title} for status, (kind, title) in STATUS_BANNERS.items()},
        "certainty": CERTAINTY_LABELS,
        "reasons": list(reasons),
        "history_items": history_items,
        "stored_notice": stored_notice,
        "help": help_text(studies),
        "link_rule": SAFE_LINK.pattern,  # the one link rule, as a pattern JavaScript reads the same way
    }
