"""The same ingest and retrieval against a real Chroma server (``chroma run``) on loopback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from magbot import IndexError_, Magbot, Settings
from magbot.frontends.server import create_app
from magbot.index.embed import Embedder
from tests.conftest import free_port, wait_until_up


def _start(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/api/v2/heartbeat", proc, 60, "chroma run")
    return proc, url


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    proc, url = _start(tmp_path / "chroma")
    yield proc, url
    proc.terminate()
    proc.wait(timeout=30)


def _bot(tmp_path: Path, knowledge: Path, embedder: Embedder, url: str) -> Magbot:
    return Magbot(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge, chroma_url=url), embedder=embedder)


def test_ingest_and_answers_through_a_chroma_server(
    chroma_server: tuple[subprocess.Popen[bytes], str], tmp_path: Path, knowledge_copy: Path, embedder: Embedder
) -> None:
    _, url = chroma_server
    report = _bot(tmp_path, knowledge_copy, embedder, url).ingest()
    assert report.built and report.added == report.chunks
    assert not (tmp_path / "data" / "index").exists()  # nothing went to the embedded store
    assert not _bot(tmp_path, knowledge_copy, embedder, url).ingest().built
    study = knowledge_copy / "studies" / "ref-7.md"
    study.write_text(study.read_text(encoding="utf-8") + "\nAn extra paragraph.\n", encoding="utf-8")
    synced = _bot(tmp_path, knowledge_copy, embedder, url).ingest()
    assert (synced.added, synced.removed) == (1, 0)
    bot = _bot(tmp_path, knowledge_copy, embedder, url)
    answer = bot.ask("By how much did pain fall in the back pain trial?")
    assert answer.status == "answered" and answer.citations[0].id == "ref-4" and "7.5" in answer.answer


def test_server_down_is_a_clear_error_not_a_hang(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(IndexError_, match=re.escape(f"cannot reach the Chroma server at {url}")):
        _bot(tmp_path, knowledge_copy, embedder, url).ingest()
    assert time.monotonic() - start < 10


def test_server_going_away_gives_a_clear_error(
    chroma_server: tuple[subprocess.Popen[bytes], str], tmp_path: Path, knowledge_copy: Path, embedder: Embedder
) -> None:
    proc, url = chroma_server
    bot = _bot(tmp_path, knowledge_copy, embedder, url)
    bot.open()
    client = TestClient(create_app(bot.settings, bot=bot))
    assert client.post("/api/ask", json={"question": "What did the back pain trial find?"}).status_code == 200
    proc.terminate()
    proc.wait(timeout=30)
    start = time.monotonic()
    with pytest.raises(IndexError_, match=re.escape("cannot query the index at http://127.0.0.1")):
        bot.ask("What did the back pain trial find?")
    resp = client.post("/api/ask", json={"question": "Does magnesium help nerve pain?"})
    assert resp.status_code == 503 and "cannot answer right now" in resp.json()["detail"]
    assert time.monotonic() - start < 40


def test_token_is_sent_to_an_authenticating_proxy(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        settings = Settings(data_dir=tmp_path, knowledge_dir=knowledge_copy, chroma_url=url, chroma_token="s3cret")
        with pytest.raises(IndexError_, match="Chroma server"):
            Magbot(settings, embedder=embedder).ingest()
    finally:
        server.shutdown()
        server.server_close()
    assert seen and seen[0] == "Bearer s3cret"
