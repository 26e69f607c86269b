"""``magbot doctor``: each check passes on a good set-up and says what to fix on a bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from magbot import Settings
from magbot.admin.doctor import run_checks
from tests.conftest import KNOWLEDGE, free_port


def _by_name(settings: Settings) -> dict[str, tuple[bool, str]]:
    return {f.name: (f.ok, f.detail + " | " + f.fix) for f in run_checks(settings)}


def test_good_setup_passes_every_check(built_data_dir: Path) -> None:
    found = _by_name(Settings(data_dir=built_data_dir, knowledge_dir=KNOWLEDGE))
    assert all(ok for ok, _ in found.values()), found


def test_problems_are_reported_with_a_fix(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    found = _by_name(
        Settings(
            data_dir=not_a_dir,
            knowledge_dir=KNOWLEDGE,
            host="0.0.0.0",
            llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
            rate_limit_storage=f"redis://127.0.0.1:{free_port()}",
        )
    )
    assert not found["data directory"][0] and "MAGBOT_DATA_DIR" in found["data directory"][1]
    assert not found["index"][0]
    assert not found["LLM endpoint"][0] and "MAGBOT_LLM_BASE_URL" in found["LLM endpoint"][1]
    assert not found["allowed origins"][0] and "MAGBOT_ALLOWED_ORIGINS" in found["allowed origins"][1]
    assert not found["rate limit storage"][0]
    assert found["embedding model"][0]


def test_stale_index_says_run_ingest(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MAGBOT_DATA_DIR": str(tmp_path)},
        check=False,
    )
    assert proc.returncode == 1
    assert "FAIL  index" in proc.stdout and "fix: run: magbot ingest" in proc.stdout
