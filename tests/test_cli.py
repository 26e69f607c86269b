"""The magbot command as a user runs it: real subprocesses, real model, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(
    args: list[str], data: Path, stdin: str = "", knowledge: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAGBOT_DATA_DIR": str(data), "MAGBOT_KNOWLEDGE_DIR": str(knowledge or REPO / "knowledge")}
    return subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.slow  # builds an index or starts a process
def test_ask_json_batch_from_stdin_one_line_each(built_data_dir: Path) -> None:
    requests = [
        "What did the back pain trial find?",
        json.dumps(
            {
                "question": "How long did it last?",
                "history": [
                    {"role": "user", "content": "What did the back pain trial find?"},
                    {"role": "assistant", "content": "Pain fell from 7.5 to 4.7 [4]."},
                ],
            }
        ),
        "What is the capital of France?",
        '{"question": broken json',
        "",
    ]
    proc = run(["ask", "--json"], built_data_dir, "\n".join(requests) + "\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip("\n").split("\n")
    assert len(lines) == 5
    answers = [json.loads(line) for line in lines]
    assert [a["status"] for a in answers] == ["answered", "answered", "out_of_scope", "invalid", "invalid"]
    assert answers[0]["citations"][0]["url"] == "https://pubmed.ncbi.nlm.nih.gov/23384256/"
    assert answers[1]["citations"][0]["id"] == "ref-4"
    assert "not valid JSON" in answers[3]["answer"]
    for a in answers:
        assert set(a) >= {"question", "status", "answer", "citations", "disclaimer", "latency_ms"}
    assert "Traceback" not in proc.stderr


def test_ask_with_nothing_to_ask_says_so(built_data_dir: Path) -> None:
    proc = run(["ask"], built_data_dir, "\n\n")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().endswith('no question: give one (magbot ask "...") or one per line on standard input')


@pytest.mark.slow  # builds an index or starts a process
def test_ask_builds_missing_index_and_says_so(tmp_path: Path) -> None:
    proc = run(["ask", "Does magnesium help regenerate the sciatic nerve?"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "no index yet, building it first" in proc.stderr
    assert "Sources:" in proc.stdout and "Animal" in proc.stdout
    assert "not medical advice" in proc.stdout
    again = run(["ingest"], tmp_path)
    assert again.returncode == 0 and "up to date, nothing to embed" in again.stdout


def test_broken_knowledge_file_is_a_one_line_error(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    (knowledge / "studies").mkdir(parents=True)
    (knowledge / "article.md").write_text((REPO / "knowledge" / "article.md").read_text(encoding="utf-8"))
    (knowledge / "studies" / "ref-1.md").write_text("---\nid: ref-1\nkind: study\n---\nshort\n")
    proc = run(["ask", "--json", "Does magnesium help?"], tmp_path / "data", knowledge=knowledge)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("magbot: error:") and "ref-1.md" in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_setting_is_a_one_line_error(tmp_path: Path) -> None:
    env_proc = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "ingest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "MAGBOT_DATA_DIR": str(tmp_path), "MAGBOT_TOP_K": "many"},
    )
    assert env_proc.returncode == 2
    assert env_proc.stderr.strip().startswith("magbot: error: setting MAGBOT_TOP_K")


@pytest.mark.slow  # builds an index or starts a process
def test_bad_input_lines_get_invalid_answers_not_tracebacks(built_data_dir: Path) -> None:
    huge = "why " * 25_000  # 100 kB on one line
    binary = "\x00\x01\x02\x7fELF\x03"
    proc = run(["ask", "--json"], built_data_dir, "\n".join([huge, binary, "?!?!...", "   "]) + "\n")
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["status"] for a in answers] == ["invalid"] * 4
    assert "too long" in answers[0]["answer"] and "binary" in answers[1]["answer"]
    assert "no words" in answers[2]["answer"] and "empty" in answers[3]["answer"]
    assert "Traceback" not in proc.stderr
