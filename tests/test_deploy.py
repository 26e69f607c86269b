"""Several workers behind Debian's nginx, with the rate limit in a real Redis server; feedback from two
processes at once. Everything runs on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from magbot.admin.feedback import FeedbackStore
from magbot.frontends.websecurity import RateLimiter
from tests.conftest import REPO, free_port, wait_until_up


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while RateLimiter("1/second", f"redis://127.0.0.1:{port}/0").healthy() is not True:
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_redis_limit_is_shared_between_workers(redis_url: str) -> None:
    first, second = RateLimiter("3 per 10 seconds", redis_url), RateLimiter("3 per 10 seconds", redis_url)
    verdicts = [limiter.hit("203.0.113.7").allowed for limiter in (first, second, first, second)]
    assert verdicts == [True, True, True, False]
    assert second.hit("203.0.113.8").allowed  # another address has its own budget


@dataclass
class Stack:
    url: str  # https through nginx
    plain: str  # nginx's plain-http port (it only redirects)
    ca: Path  # the test's certificate authority, for clients to trust


@contextmanager
def nginx_stack(root: Path, data: Path, env: dict[str, str], workers: int = 2) -> Iterator[Stack]:
    """deploy/nginx-magbot.conf with a certificate made here -> ``magbot serve --workers N`` on loopback."""
    import trustme

    ca = trustme.CA()
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(root / "site.pem"))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    app_port, web_port, tls_port = free_port(), free_port(), free_port()
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "magbot.frontends.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(app_port),
            "--workers",
            str(workers),
        ],
        env={**os.environ, "MAGBOT_DATA_DIR": str(data), "MAGBOT_TRUSTED_PROXIES": "1", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = (REPO / "deploy" / "nginx-magbot.conf").read_text()
    for old, new in {
        "server 127.0.0.1:7860;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{web_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{tls_port} ssl;",
        "/etc/ssl/magbot/fullchain.pem": str(root / "site.pem"),
        "/etc/ssl/magbot/privkey.pem": str(root / "site.pem"),
    }.items():
        assert old in site, old
        site = site.replace(old, new)
    (root / "site.conf").write_text(site)
    (root / "nginx.conf").write_text(
        f"daemon off; pid {root}/nginx.pid; error_log {root}/error.log; worker_processes 1;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;\n"
        f"  include {root}/site.conf; }}\n"
    )
    nginx = subprocess.Popen(
        ["nginx", "-c", str(root / "nginx.conf"), "-p", str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(f"http://127.0.0.1:{app_port}/api/health", app, 180, "magbot workers")
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"https://127.0.0.1:{tls_port}/api/health", verify=str(root / "ca.pem")).raise_for_status()
                break
            except httpx.HTTPError:
                if nginx.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((root / "error.log").read_text()) from None
                time.sleep(0.3)
        yield Stack(f"https://127.0.0.1:{tls_port}", f"http://127.0.0.1:{web_port}", root / "ca.pem")
    finally:
        nginx.terminate()
        app.terminate()
        nginx.wait(timeout=10)
        app.wait(timeout=60)


@pytest.fixture(scope="module")
def stack(
    built_data_dir: Path, redis_url: str, llama_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """nginx with TLS -> two workers -> Redis for the rate limit; the LLM makes streams slow."""
    root = tmp_path_factory.mktemp("stack")
    data = root / "data"
    shutil.copytree(built_data_dir, data)
    env = {
        "MAGBOT_RATE_LIMIT": "3/minute",
        "MAGBOT_RATE_LIMIT_STORAGE": redis_url,
        "MAGBOT_LLM_BASE_URL": llama_url,
        "MAGBOT_LLM_MODEL": "smollm2",
        "MAGBOT_LLM_MAX_TOKENS": "120",
    }
    with nginx_stack(root, data, env) as running:
        yield running


def _client(local_address: str, ca: Path) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local_address, verify=str(ca)), timeout=120)


def test_answer_streams_through_nginx_incrementally(stack: Stack) -> None:
    arrivals: list[tuple[float, str]] = []
    start = time.monotonic()
    with (
        _client("127.0.0.3", stack.ca) as http,
        http.stream(
            "POST",
            f"{stack.url}/api/ask/stream",
            json={"question": "By how much did pain fall in the back pain trial?"},
        ) as resp,
    ):
        assert resp.status_code == 200 and resp.headers["x-accel-buffering"] == "no"
        assert resp.headers["strict-transport-security"].startswith("max-age=")
        for line in resp.iter_lines():
            if line.startswith("event: "):
                arrivals.append((time.monotonic() - start, line[7:]))
    kinds = [k for _, k in arrivals]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 3
    first_delta = next(t for t, k in arrivals if k == "delta")
    assert arrivals[-1][0] - first_delta > 0.3, arrivals  # events arrived over time, not in one buffered lump


def test_rate_limit_sees_the_real_client_address_across_workers(stack: Stack) -> None:
    ask = {"question": "Does magnesium help nerve pain?"}
    with _client("127.0.0.2", stack.ca) as one, _client("127.0.0.1", stack.ca) as other:
        spoofed = {"X-Forwarded-For": "198.51.100.1"}  # a client cannot choose its own key
        codes = [one.post(f"{stack.url}/api/ask", json=ask, headers=spoofed).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = one.post(f"{stack.url}/api/ask", json=ask)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert other.post(f"{stack.url}/api/ask", json=ask).status_code == 200


_WRITER = """
import sys
from pathlib import Path
from typing import Any
from magbot.admin.feedback import FeedbackStore
store = FeedbackStore(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    store.add("up" if i % 2 else "down", {"question": f"{sys.argv[3]} {i}", "answer": "a", "citations": []})
"""


def test_feedback_from_two_processes_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    FeedbackStore(db)
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(db), "300", name]) for name in ("w1", "w2")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    rows = FeedbackStore(db).rows()
    assert len(rows) == 600
    assert {r["question"] for r in rows} == {f"{n} {i}" for n in ("w1", "w2") for i in range(300)}
    assert json.loads(rows[0]["citations"]) == []


def test_the_widget_answers_through_nginx_with_tls(
    built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> None:
    from playwright.sync_api import expect

    from tests.test_widget import _HostSite

    root = tmp_path_factory.mktemp("tls")
    data = root / "data"
    shutil.copytree(built_data_dir, data)
    host = _HostSite()
    try:
        with nginx_stack(root, data, {"MAGBOT_ALLOWED_ORIGINS": host.origin}, workers=1) as tls:
            host.magbot = tls.url
            moved = httpx.get(f"{tls.plain}/embed", follow_redirects=False)
            assert moved.status_code == 301 and moved.headers["location"].startswith("https://")
            context = browser.new_context(ignore_https_errors=True)  # the test's own certificate authority
            page = context.new_page()
            page.goto(f"{host.origin}/plain")
            page.locator("[data-magbot-widget] .launcher").click(timeout=15_000)
            chat = page.frame_locator("[data-magbot-widget] iframe")
            chat.locator("#question").fill("What did the back pain trial find?")
            chat.locator("#question").press("Enter")
            card = chat.locator(".card").first
            expect(card).to_contain_text("[4]", timeout=30_000)
            assert card.locator("a").get_attribute("href") == "https://pubmed.ncbi.nlm.nih.gov/23384256/"
            frame = next(f for f in page.frames if f.url.startswith(tls.url))
            assert frame.url.startswith("https://")  # the chat itself came over TLS
            context.close()
    finally:
        host.close()
