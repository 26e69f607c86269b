"""The site widget in a real browser, on host pages served from other loopback origins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SHOTS, LiveServer

HOSTILE_CSS = """<style>
  body { font-size: 30px; font-family: fantasy; color: #0f0; background: #222; }
  div, button, p, iframe { background: magenta !important; color: yellow !important; font-size: 40px !important;
    border: 6px dashed lime !important; padding: 30px !important; width: 90% !important; }
</style>"""


def _page(magbot: str, hostile: bool) -> str:
    return (
        "<!doctype html><html><head><meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Clinic</title>{HOSTILE_CSS if hostile else ''}</head><body><div><p>Welcome to the clinic.</p>"
        "<button>Book</button></div>"
        f'<script src="{magbot}/widget.js" async data-title="Ask our nerve pain bot" data-accent="#8a2be2" '
        'data-position="left" data-greeting="Hello from the clinic!" '
        'data-starters="What did the back pain trial find?|Does magnesium help nerve pain?"></script>'
        "</body></html>"
    )


class _HostSite:
    """A plain static site on its own loopback port (its own origin) that embeds magbot's widget."""

    def __init__(self) -> None:
        self.magbot = ""  # set once magbot runs: the site's origin must be known before magbot starts
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pages = {"/hostile": _page(site.magbot, True), "/plain": _page(site.magbot, False)}
                body = pages.get(self.path, "not found").encode()
                self.send_response(200 if self.path in pages else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sites(live_server: Callable[..., LiveServer]) -> Iterator[tuple[_HostSite, _HostSite, LiveServer]]:
    allowed, refused = _HostSite(), _HostSite()
    server = live_server(MAGBOT_ALLOWED_ORIGINS=allowed.origin)
    allowed.magbot = refused.magbot = server.url
    yield allowed, refused, server
    allowed.close()
    refused.close()


def _feedback_rows(server: LiveServer) -> list[dict[str, Any]]:
    """Every stored rating, read with the operator's own command."""
    out = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "feedback", "export", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "MAGBOT_DATA_DIR": str(server.data)},
        timeout=120,
        check=True,
    )
    return list(json.loads(out.stdout))


def _launcher_style(page: Page) -> dict[str, str]:
    return page.locator("[data-magbot-widget] .launcher").evaluate(
        "el => { const s = getComputedStyle(el); return {bg: s.backgroundColor, size: s.fontSize, "
        "w: s.width, border: s.borderTopWidth, left: s.left}; }"
    )


def test_widget_answers_with_citation_on_an_allowed_site(
    sites: tuple[_HostSite, _HostSite, LiveServer], browser: Any
) -> None:
    allowed, _, server = sites
    plain = browser.new_page(viewport={"width": 1280, "height": 860})
    plain.goto(f"{allowed.origin}/plain")
    expect(plain.locator("[data-magbot-widget] .launcher")).to_be_visible(timeout=15_000)
    reference = _launcher_style(plain)
    plain.close()

    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{allowed.origin}/hostile")
    launcher = page.locator("[data-magbot-widget] .launcher")
    expect(launcher).to_be_visible(timeout=15_000)
    assert _launcher_style(page) == reference  # the host page's CSS does not reach the widget
    assert reference["bg"] == "rgb(138, 43, 226)" and reference["left"] == "20px"

    expect(launcher).to_have_text("Ask our nerve pain bot")  # the site's data-title
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard opens it
    assert launcher.get_attribute("aria-expanded") == "true"
    chat = page.frame_locator("[data-magbot-widget] iframe")
    expect(chat.locator("#log")).to_contain_text("Hello from the clinic!", timeout=15_000)
    expect(chat.locator("#question")).to_be_focused()
    chat.locator("#question").fill("<b>What</b> did the back pain trial find?")
    chat.locator("#question").press("Enter")
    card = chat.locator(".card").first
    expect(card).to_contain_text("[4]", timeout=30_000)
    link = card.locator("a")
    assert link.get_attribute("href") == "https://pubmed.ncbi.nlm.nih.gov/23384256/"
    assert link.get_attribute("target") == "_blank" and "noopener" in (link.get_attribute("rel") or "")
    expect(chat.locator(".msg.user").last).to_have_text("<b>What</b> did the back pain trial find?")  # text, not HTML
    assert chat.locator(".msg.user b").count() == 0
    expect(chat.locator(".notice")).to_contain_text("not medical advice")
    expect(chat.locator(".bottom").last).to_contain_text("Yousef 2013")  # the bottom line first, in bold
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-on-host-page.png"))  # the question and the answer's start
    expect(chat.locator(".stored")).to_contain_text("Rating an answer stores")
    chat.get_by_role("button", name="Not helpful").last.click()
    chat.get_by_label("wrong citation").last.check()
    chat.get_by_label("Anything else? (optional)").last.fill("widget test comment")
    chat.get_by_role("button", name="Send feedback").last.click()
    expect(chat.locator(".said").last).to_contain_text("saved")
    rows = _feedback_rows(server)
    assert rows[-1]["rating"] == "down" and rows[-1]["reason"] == "wrong citation"
    assert rows[-1]["comment"] == "widget test comment" and "ref-4" in rows[-1]["citations"]

    chat.locator("#question").press("Escape")  # closes and hands focus back to the launcher
    expect(page.locator("[data-magbot-widget] .panel")).to_be_hidden()
    assert launcher.get_attribute("aria-expanded") == "false"
    page.close()


def test_widget_is_full_screen_on_a_phone(sites: tuple[_HostSite, _HostSite, LiveServer], browser: Any) -> None:
    allowed, _, server = sites
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(f"{allowed.origin}/plain")
    page.locator("[data-magbot-widget] .launcher").click(timeout=15_000)
    chat = page.frame_locator("[data-magbot-widget] iframe")
    chat.locator(".starters button").first.click(timeout=15_000)
    expect(chat.locator(".card").first).to_be_visible(timeout=30_000)
    box = page.locator("[data-magbot-widget] .panel").bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844
    page.screenshot(path=str(SHOTS / "widget-phone.png"))
    chat.get_by_role("button", name="Not helpful").last.click()  # thumbs on a phone too, into the same store
    chat.get_by_label("unclear").last.check()
    chat.get_by_role("button", name="Send feedback").last.click()
    expect(chat.locator(".said").last).to_contain_text("saved")
    assert _feedback_rows(server)[-1]["reason"] == "unclear"
    page.close()


def test_site_not_on_the_list_gets_a_clear_message(
    sites: tuple[_HostSite, _HostSite, LiveServer], browser: Any
) -> None:
    _, refused, _ = sites
    page = browser.new_page()
    page.goto(f"{refused.origin}/plain")
    page.locator("[data-magbot-widget] .launcher").click(timeout=15_000)
    expect(page.locator("[data-magbot-widget] .message")).to_contain_text("not enabled for this website")
    assert page.locator("[data-magbot-widget] iframe").count() == 0
    page.close()


def test_rate_limit_and_server_down_are_readable(live_server: Callable[..., LiveServer], browser: Any) -> None:
    site = _HostSite()
    server = live_server(MAGBOT_RATE_LIMIT="1/minute", MAGBOT_ALLOWED_ORIGINS=site.origin)
    site.magbot = server.url
    try:
        page = browser.new_page()
        page.goto(f"{server.url}/embed")  # the chat page itself, same origin
        page.fill("#question", "Does magnesium help nerve pain?")
        page.press("#question", "Enter")
        expect(page.locator(".card").first).to_be_visible(timeout=30_000)
        page.fill("#question", "And in diabetes?")
        page.press("#question", "Enter")
        expect(page.locator(".msg.bot .error").last).to_contain_text("Too many questions", timeout=30_000)

        host = browser.new_page()
        host.goto(f"{site.origin}/plain")
        expect(host.locator("[data-magbot-widget] .launcher")).to_be_visible(timeout=15_000)
        server.process.terminate()
        server.process.wait(timeout=30)
        host.locator("[data-magbot-widget] .launcher").click()
        expect(host.locator("[data-magbot-widget] .message")).to_contain_text("can't be reached", timeout=15_000)
    finally:
        site.close()
