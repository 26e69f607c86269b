"""The web chat in a real browser: Debian's chromium driven by Playwright, against the app on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import SHOTS, LiveServer

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_server(live_server: Callable[..., LiveServer]) -> tuple[str, Path]:
    server = live_server(MAGBOT_LOG_LEVEL="INFO")
    return server.url, server.data


def _contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two computed ``rgb(...)`` colours."""

    def luminance(css: str) -> float:
        r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _in_view(page: Page, selector: str) -> bool:
    """Whether the element's top line is (within two seconds) inside the window and its scrolling chat panel."""
    for _ in range(10):
        if _seen(page, selector):
            return True
        page.wait_for_timeout(200)
    return False


def _seen(page: Page, selector: str) -> bool:
    return bool(
        page.locator(selector).last.evaluate(
            """el => { const r = el.getBoundingClientRect();
                 let p = el.parentElement; while (p && getComputedStyle(p).overflowY !== 'auto'
                   && getComputedStyle(p).overflowY !== 'scroll') p = p.parentElement;
                 const box = p ? p.getBoundingClientRect() : {top: 0, bottom: innerHeight};
                 return r.top >= Math.max(0, box.top) - 1 && r.top + 16 <= Math.min(innerHeight, box.bottom) + 1; }"""
        )
    )


def _ask(page: Page, question: str) -> None:
    cards_before = page.locator(".mb-disclaimer").count()
    page.fill("#mb-input textarea", question)
    page.click("#mb-send")
    expect(page.locator(".mb-disclaimer")).to_have_count(cards_before + 1, timeout=30_000)


def _urgent_banner_contrast(page: Page) -> float:
    _ask(page, "my dad's face is drooping on one side and his speech is slurred right now")
    banner = page.locator("#mb-chat .mb-urgent strong").last
    colours = banner.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el.closest('.mb-urgent')).backgroundColor]"
    )
    return _contrast(*colours)


def _rate_down_with_reason(page: Page, height: int, comment: str) -> None:
    """Thumbs down on the last answer: the reason form must come into view; then send a reason."""
    page.locator("#mb-chat button[aria-label='Dislike']").last.click()
    expect(page.locator("#mb-feedback").first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(400)
    box = page.locator("#mb-feedback").first.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + 40 <= height, box  # the reason form is in view
    page.get_by_label("wrong citation").check()
    page.fill("#mb-comment textarea", comment)
    page.click("#mb-save")
    expect(page.locator("#mb-thanks").first).to_contain_text("saved", timeout=10_000)


def _stored(data: Path) -> list[dict[str, Any]]:
    export = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "feedback", "export", "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "MAGBOT_DATA_DIR": str(data)},
        timeout=120,
        check=True,
    )
    return list(json.loads(export.stdout))


def test_chat_cites_follows_up_and_takes_feedback(app_server: tuple[str, Path], browser: object) -> None:
    url, data = app_server
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(url + "/", wait_until="load")
    expect(page.locator("#mb-notice")).to_contain_text("not medical advice")
    expect(page.locator("#mb-chat")).to_contain_text("Welcome")  # the empty chat says what to do
    _ask(page, "What did the back pain trial find?")
    assert _in_view(page, "#mb-chat .mb-bottom"), "the answer's first line scrolled out of sight"
    last = page.locator("#mb-chat .mb-sources").last
    expect(page.locator("#mb-chat")).to_contain_text("[4]")
    link = last.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/23384256/']")
    expect(link).to_have_count(1)
    assert link.get_attribute("target") == "_blank" and "noopener" in (link.get_attribute("rel") or "")
    expect(last).to_contain_text("Randomised trial")

    _ask(page, "How long did it last?")
    follow = page.locator("#mb-chat .mb-sources").last
    expect(follow.locator("a[href='https://pubmed.ncbi.nlm.nih.gov/23384256/']")).to_have_count(1)
    expect(page.locator("#mb-chat")).to_contain_text("6 months")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # the chat brings the answer's start into view just after it completes
    page.screenshot(path=str(SHOTS / "chat-desktop.png"))  # what the person sees

    _rate_down_with_reason(page, 900, "browser test comment")
    rows = _stored(data)
    assert rows[-1]["rating"] == "down" and rows[-1]["reason"] == "wrong citation"
    assert rows[-1]["comment"] == "browser test comment" and rows[-1]["question"] == "How long did it last?"
    assert "ref-4" in rows[-1]["citations"]
    expect(page.locator("#mb-chat [role='log'][aria-live='polite']")).to_have_count(1)  # answers are announced
    assert _urgent_banner_contrast(page) >= 4.5
    page.close()


def test_phone_layout_has_no_horizontal_scroll(app_server: tuple[str, Path], browser: object) -> None:
    url, data = app_server
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page.goto(url + "/", wait_until="load")
    expect(page.locator("#mb-chat")).to_contain_text("Welcome")
    _ask(page, "Does magnesium help regenerate the sciatic nerve?")
    expect(page.locator("#mb-chat")).to_contain_text("Animal")
    assert _in_view(page, "#mb-chat .mb-bottom"), "the answer's first line scrolled out of sight"
    _rate_down_with_reason(page, 844, "phone test comment")
    assert _stored(data)[-1]["comment"] == "phone test comment" and _stored(data)[-1]["reason"] == "wrong citation"
    assert _urgent_banner_contrast(page) >= 4.5
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at a 390px viewport"
    expect(page.locator("#mb-input textarea")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "chat-phone.png"))
    page.close()


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_sources_page_lists_every_study(app_server: tuple[str, Path], browser: object, size: tuple[int, int]) -> None:
    url, _ = app_server
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})  # type: ignore[attr-defined]
    page.goto(url + "/sources")
    expect(page.locator("li")).to_have_count(9)
    expect(page.locator("body")).to_contain_text("Trial protocol (no results)")
    font = page.locator("body").evaluate("el => getComputedStyle(el).fontFamily")
    assert "system-ui" in font, font  # its stylesheet loaded (the CSP allows only its own files)
    page.close()


def _serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_no_serious_accessibility_violations(
    app_server: tuple[str, Path], browser: object, size: tuple[int, int]
) -> None:
    url, _ = app_server
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})  # type: ignore[attr-defined]
    for path in ("/", "/embed", "/sources"):
        page.goto(url + path, wait_until="load")
        page.wait_for_function("document.title.length > 0", timeout=15_000)  # the chat sets it once running
        page.wait_for_timeout(500)
        assert _serious_violations(page) == [], path
    page.goto(url + "/", wait_until="load")
    _ask(page, "What did the back pain trial find?")
    _ask(page, "I have crushing chest pain spreading to my arm")
    assert _serious_violations(page) == [], "the chat with an answer and an urgent banner"
    page.close()
