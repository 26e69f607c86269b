"""The HTTP API, in process (FastAPI's test client) and against uvicorn on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from magbot import Magbot, Settings
from magbot.frontends.server import create_app
from magbot.frontends.websecurity import client_ip
from tests.conftest import KNOWLEDGE, LiveServer, run_script

CLINIC = "https://clinic.example"


def _client(bot: Magbot, tmp_path: Path, **settings: Any) -> TestClient:
    config = Settings(data_dir=tmp_path, knowledge_dir=KNOWLEDGE, allowed_origins=CLINIC, **settings)
    return TestClient(create_app(config, bot=bot))


@pytest.fixture(scope="module")
def client(bot: Magbot, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return _client(bot, tmp_path_factory.mktemp("api"), rate_limit="1000/minute")


def _events(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


@pytest.mark.parametrize(
    ("question", "status", "code"),
    [
        ("What did the back pain trial find?", "answered", 200),
        ("Can I take magnesium while pregnant?", "not_in_sources", 200),
        ("What is the capital of France?", "out_of_scope", 200),
        ("I have crushing chest pain", "urgent", 200),
        ("", "invalid", 422),
        ("x" * 5000, "invalid", 422),
    ],
)
def test_ask_returns_the_answer_object_for_each_status(
    client: TestClient, question: str, status: str, code: int
) -> None:
    resp = client.post("/api/ask", json={"question": question})
    assert resp.status_code == code
    body = resp.json()
    assert body["status"] == status and body["disclaimer"]
    assert set(body) >= {"question", "status", "answer", "citations", "disclaimer", "latency_ms"}


def test_ask_with_history_resolves_the_follow_up(client: TestClient) -> None:
    history = [
        {"role": "user", "content": "What did the back pain trial find?"},
        {"role": "assistant", "content": "Pain fell from 7.5 to 4.7 [4]."},
    ]
    body = client.post("/api/ask", json={"question": "How long did it last?", "history": history}).json()
    assert body["status"] == "answered" and body["citations"][0]["url"] == "https://pubmed.ncbi.nlm.nih.gov/23384256/"


def test_stream_sends_deltas_then_the_answer(client: TestClient) -> None:
    resp = client.post("/api/ask/stream", json={"question": "Does magnesium help regenerate the sciatic nerve?"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["cache-control"] == "no-cache" and resp.headers["x-accel-buffering"] == "no"
    events = _events(resp.text)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 2 and set(kinds[:-1]) == {"delta"}
    final = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "delta") == final["answer"]
    assert {c["id"] for c in final["citations"]} & {"ref-8", "ref-9"}


def test_health_sources_feedback_and_docs(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["ready"] is True and health["sources"] == 10 and len(health["index_version"]) == 16
    sources = client.get("/api/sources").json()
    assert [s["id"] for s in sources][:2] == ["article", "ref-1"]
    assert next(s for s in sources if s["id"] == "ref-3")["evidence_level"] == "protocol"
    answer = client.post("/api/ask", json={"question": "What did the back pain trial find?"}).json()
    saved = client.post(
        "/api/feedback", json={"rating": "down", "reason": "unclear", "comment": "hm", "answer": answer}
    )
    assert saved.status_code == 201 and saved.json()["id"] >= 1
    bad = client.post("/api/feedback", json={"rating": "meh", "answer": answer})
    assert bad.status_code == 422 and "rating" in bad.json()["detail"]
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404  # off by default


def test_api_docs_when_asked_for(bot: Magbot, tmp_path: Path) -> None:
    with _client(bot, tmp_path, api_docs=True) as documented:
        assert documented.get("/docs").status_code == 200
        assert "/api/ask/stream" in documented.get("/openapi.json").json()["paths"]


def test_cors_allows_only_configured_origins(client: TestClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = client.options("/api/ask", headers={"Origin": CLINIC, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == CLINIC
    assert "Origin" in ok.headers["vary"] and "access-control-allow-credentials" not in ok.headers
    refused = client.options("/api/ask", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    call = client.post(
        "/api/ask", json={"question": "Does magnesium help?"}, headers={"Origin": "https://evil.example"}
    )
    assert call.status_code == 403 and "not allowed" in call.json()["detail"]
    allowed = client.post("/api/ask", json={"question": "Does magnesium help nerve pain?"}, headers={"Origin": CLINIC})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == CLINIC
    health = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert health.json()["origin_allowed"] is False and health.headers["access-control-allow-origin"] == "*"


def test_embed_and_pages_send_csp_with_frame_ancestors(client: TestClient) -> None:
    embed = client.get("/embed")
    csp = embed.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {CLINIC}" in csp and "script-src 'self'" in csp and "img-src 'self'" in csp
    assert "frame-ancestors 'self'" in client.get("/").headers["content-security-policy"]
    assert client.get("/widget.js").headers["content-type"].startswith("text/javascript")


def test_oversized_and_malformed_bodies_get_clear_errors(client: TestClient) -> None:
    huge = client.post(
        "/api/ask", content=json.dumps({"question": "a" * 70_000}), headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]
    broken = client.post("/api/ask", content="{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["detail"]
    junk = bytes(range(256)) * 4  # not UTF-8 at all
    binary = client.post("/api/ask", content=junk, headers={"content-type": "application/json"})
    assert binary.status_code == 400 and "not valid JSON" in binary.json()["detail"]
    missing = client.post("/api/ask", json={"history": []})
    assert missing.status_code == 422 and "question" in missing.json()["detail"]
    long_history = [{"role": "user", "content": "hi"}] * (2 * Settings().max_history_turns + 1)
    too_many = client.post("/api/ask", json={"question": "Does magnesium help?", "history": long_history})
    assert too_many.status_code == 422 and "History is too long" in too_many.json()["detail"]


def test_xss_and_markdown_image_payload_come_back_inert(client: TestClient) -> None:
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)> ![t](https://evil.example/t.png) magnesium"
    resp = client.post("/api/ask", json={"question": payload})
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-content-type-options"] == "nosniff"
    body = resp.json()
    assert "evil.example" not in body["answer"] and "<script" not in body["answer"]
    for c in body["citations"]:
        assert c["url"].startswith(
            ("https://pubmed.ncbi.nlm.nih.gov/", "https://pmc.ncbi.nlm.nih.gov/", "https://doi.org/")
        )


def test_rate_limit_gives_429_with_retry_after_then_recovers(bot: Magbot, tmp_path: Path) -> None:
    client = _client(bot, tmp_path, rate_limit="3 per 2 seconds")
    codes = [
        client.post("/api/ask", json={"question": "Does magnesium help nerve pain?"}).status_code for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    limited = client.post("/api/ask/stream", json={"question": "Does magnesium help nerve pain?"})
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 2
    assert "Too many questions" in limited.json()["detail"]
    time.sleep(2.2)
    assert client.post("/api/ask", json={"question": "Does magnesium help nerve pain?"}).status_code == 200


def test_client_address_behind_proxies() -> None:
    assert client_ip("10.0.0.1", "203.0.113.9", 0) == "10.0.0.1"  # no proxy trusted: the peer
    assert client_ip("127.0.0.1", "203.0.113.9", 1) == "203.0.113.9"
    assert client_ip("127.0.0.1", "6.6.6.6, 203.0.113.9", 1) == "203.0.113.9"  # spoofed first entry ignored
    assert client_ip("127.0.0.1", "203.0.113.9, 10.0.0.2", 2) == "203.0.113.9"


def test_against_uvicorn_on_loopback(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(MAGBOT_ALLOWED_ORIGINS=CLINIC, MAGBOT_RATE_LIMIT="5/minute")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/api/health").json()["ready"] is True
        deltas, final = 0, None
        with http.stream("POST", "/api/ask/stream", json={"question": "What did the back pain trial find?"}) as resp:
            assert resp.status_code == 200
            for line in resp.iter_lines():
                if line.startswith("event: delta"):
                    deltas += 1
                elif line.startswith("data: ") and '"status"' in line:
                    final = json.loads(line[6:])
        assert deltas >= 2 and final is not None and final["citations"][0]["id"] == "ref-4"
        ok = http.options("/api/ask", headers={"Origin": CLINIC, "Access-Control-Request-Method": "POST"})
        assert ok.headers.get("access-control-allow-origin") == CLINIC
        codes = [
            http.post("/api/ask", json={"question": "Does magnesium help nerve pain?"}).status_code for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]
    assert "magbot ready" in server.log()


def test_the_web_chat_loads_only_when_someone_opens_it(built_data_dir: Path, model_cache: Path) -> None:
    """A worker that only answers the API never imports Gradio (about 115 MB); the chat still works."""
    script = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from magbot import Settings\n"
        "from magbot.frontends.server import create_app\n"
        "with TestClient(create_app(Settings())) as client:\n"
        "    api = client.post('/api/ask', json={'question': 'What did the back pain trial find?'})\n"
        "    probes = [client.get(p).status_code for p in ('/api/typo', '/wp-admin/', '/.env', '/robots.txt')]\n"
        "    before = 'gradio' in sys.modules\n"
        "    page = client.get('/')\n"
        "    info = client.get('/gradio_api/info')\n"
        "    print(json.dumps({'api': api.status_code, 'status': api.json()['status'], 'before': before,\n"
        "        'probes': probes,\n"
        "        'page': page.status_code, 'gradio_page': 'gradio' in page.text.lower(),\n"
        "        'csp': page.headers.get('content-security-policy', ''), 'info': info.status_code,\n"
        "        'after': 'gradio' in sys.modules}))\n"
    )
    result = run_script(script, built_data_dir, model_cache, timeout=180)
    assert (result["api"], result["status"], result["before"]) == (200, "answered", False)
    assert result["probes"] == [404, 404, 404, 200]  # refused, or served, without building the chat
    assert result["page"] == 200 and result["gradio_page"] and result["after"]
    assert "frame-ancestors" in result["csp"] and result["info"] == 200


def test_the_lazy_chat_knows_every_path_gradio_serves() -> None:
    import gradio.routes

    from magbot.frontends.chat_mount import CHAT_PATHS

    assert set(gradio.routes.INTERNAL_ROUTES) <= CHAT_PATHS
