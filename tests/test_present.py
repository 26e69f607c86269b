"""One answer object, shown by every front end: the CLI's text, the web chat's HTML and the widget in a
real browser show the same banner, the same citations (one line naming each source, the article included)
and the same links (a citation's own PubMed/PMC/DOI address only)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from magbot import Answer, Magbot
from magbot.frontends.present import STATUS_BANNERS, as_html, as_text, safe_url
from tests.conftest import LiveServer

QUESTIONS = {
    "article claim": "The article says magnesium protects nerves from diabetic damage. Is that true?",
    "urgent": "my husband suddenly can't lift his arm and his speech is slurred",
    "declined": "Can I take magnesium with my warfarin?",
}


def _shown_by_widget(page: Any, answer: Answer) -> dict[str, Any]:
    """Render ``answer`` in the widget's chat page by answering its request with this very object."""

    def reply(route: Route) -> None:
        body = f"event: answer\ndata: {json.dumps(answer.model_dump())}\n\n"
        route.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=body)

    page.route("**/api/ask/stream", reply)
    page.fill("#question", answer.question)
    page.press("#question", "Enter")
    reply_node = page.locator(".msg.bot").last
    expect(reply_node.locator(".disclaimer")).to_be_visible(timeout=15_000)
    page.unroute("**/api/ask/stream")
    return {
        "banner": reply_node.locator(".banner").all_inner_texts(),
        "labels": [t.strip() for t in reply_node.locator(".card .title").all_inner_texts()],
        "links": [a.get_attribute("href") for a in reply_node.locator(".card a").all()],
    }


@pytest.mark.browser
def test_cli_web_chat_and_widget_show_the_same_answer(
    bot: Magbot, live_server: Callable[..., LiveServer], browser: Any
) -> None:
    answers = {kind: bot.ask(q) for kind, q in QUESTIONS.items()}
    assert answers["urgent"].status == "urgent" and answers["declined"].status == "not_in_sources"
    cited = answers["article claim"].citations
    assert [c.id for c in cited][:1] == ["article"] and len(cited) >= 2  # the article's card and a study's

    server = live_server()
    page = browser.new_page(viewport={"width": 900, "height": 900})
    page.goto(f"{server.url}/embed")
    for kind, answer in answers.items():
        labels = [c.label for c in answer.citations]
        links = [u for u in (safe_url(c) for c in answer.citations) if u]
        banner = [STATUS_BANNERS[answer.status][1]] if answer.status in STATUS_BANNERS else []
        assert all(labels) and (not cited or "The article:" in cited[0].label)

        text = as_text(answer)  # the CLI
        assert all(label in text for label in labels) and all(link in text for link in links), kind
        assert all(b in text for b in banner) and "None" not in text and "n.d." not in text

        chat = as_html(answer, studies=9)  # the web chat
        assert [html.unescape(x) for x in re.findall(r'<div class="mb-title">(?:<a [^>]*>)?(.*?)<', chat)] == labels
        assert re.findall(r'href="([^"]+)"', chat) == links, kind
        assert all(html.escape(b) in chat for b in banner)

        widget = _shown_by_widget(page, answer)  # the widget, in Chromium
        assert widget["labels"] == labels and widget["links"] == links and widget["banner"] == banner, kind
    page.close()
