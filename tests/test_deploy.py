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
from pathlib import Path

import httpx
import pytest

from magbot.feedback import FeedbackStore
from magbot.websecurity import RateLimiter
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


@pytest.fixture(scope="module")
def stack(
    built_data_dir: Path, redis_url: str, llama_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """nginx (deploy/nginx-magbot.conf) -> magbot serve --workers 2 -> Redis; the LLM makes streams slow."""
    root = tmp_path_factory.mktemp("stack")
    data = root / "data"
    shutil.copytree(built_data_dir, data)
    app_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "MAGBOT_DATA_DIR": str(data),
        "MAGBOT_RATE_LIMIT": "3/minute",
        "MAGBOT_RATE_LIMIT_STORAGE": redis_url,
        "MAGBOT_TRUSTED_PROXIES": "1",
        "MAGBOT_LLM_BASE_URL": llama_url,
        "MAGBOT_LLM_MODEL": "smollm2",
        "MAGBOT_LLM_MAX_TOKENS": "120",
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "magbot.cli", "serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = (REPO / "deploy" / "nginx-magbot.conf").read_text()
    site = site.replace("server 127.0.0.1:7860;", f"server 127.0.0.1:{app_port};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{web_port};")
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
        wait_until_up(f"http://127.0.0.1:{web_port}/api/health", nginx, 30, "nginx")
        yield f"http://127.0.0.1:{web_port}"
    finally:
        nginx.terminate()
        app.terminate()
        nginx.wait(timeout=10)
        app.wait(timeout=60)


def _client(local_address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local_address), timeout=120)


def test_answer_streams_through_nginx_incrementally(stack: str) -> None:
    arrivals: list[tuple[float, str]] = []
    start = time.monotonic()
    with (
        _client("127.0.0.3") as http,
        http.stream(
            "POST", f"{stack}/api/ask/stream", json={"question": "By how much did pain fall in the back pain trial?"}
        ) as resp,
    ):
        assert resp.status_code == 200 and resp.headers["x-accel-buffering"] == "no"
        for line in resp.iter_lines():
            if line.startswith("event: "):
                arrivals.append((time.monotonic() - start, line[7:]))
    kinds = [k for _, k in arrivals]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 3
    first_delta = next(t for t, k in arrivals if k == "delta")
    assert arrivals[-1][0] - first_delta > 0.3, arrivals  # events arrived over time, not in one buffered lump


def test_rate_limit_sees_the_real_client_address_across_workers(stack: str) -> None:
    ask = {"question": "Does magnesium help nerve pain?"}
    with _client("127.0.0.2") as one, _client("127.0.0.1") as other:
        spoofed = {"X-Forwarded-For": "198.51.100.1"}  # a client cannot choose its own key
        codes = [one.post(f"{stack}/api/ask", json=ask, headers=spoofed).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
        limited = one.post(f"{stack}/api/ask", json=ask)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
        assert other.post(f"{stack}/api/ask", json=ask).status_code == 200


_WRITER = """
import sys
from pathlib import Path
from magbot.feedback import FeedbackStore
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
