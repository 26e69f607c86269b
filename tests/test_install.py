"""A wheel built from the repository, installed without ``-e`` into a fresh virtual environment, answers
from any folder: the knowledge folder and the evaluation splits ship inside the package.

The fresh environment gets the wheel itself (``--no-deps``); its dependencies are borrowed from the test
environment through a path file, so the test needs no network and checks what the wheel carries.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import REPO


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_a_wheel_answers_from_any_folder(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAGBOT_")}
    built = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        tmp_path,
        clean,
    )
    assert built.returncode == 0, built.stderr
    wheel = next(tmp_path.glob("magbot-*.whl"))
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    assert _run([base, "-m", "venv", str(venv)], tmp_path, clean).returncode == 0
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], tmp_path, clean
    )
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**clean, "MAGBOT_DATA_DIR": str(tmp_path / "data")}
    magbot = str(venv / "bin" / "magbot")
    where = _run([str(venv / "bin" / "python"), "-c", "import magbot; print(magbot.__file__)"], elsewhere, env)
    assert str(site) in where.stdout  # the installed wheel, not the checkout
    asked = _run([magbot, "ask", "What did the back pain trial find?"], elsewhere, env)
    assert asked.returncode == 0, asked.stderr
    assert "[4]" in asked.stdout and "https://pubmed.ncbi.nlm.nih.gov/23384256/" in asked.stdout

    copied = _run([magbot, "copy-knowledge", str(tmp_path / "my-knowledge")], elsewhere, env)
    assert copied.returncode == 0 and "MAGBOT_KNOWLEDGE_DIR=" in copied.stdout
    assert (tmp_path / "my-knowledge" / "studies" / "ref-4.md").is_file()
    again = _run([magbot, "copy-knowledge", str(tmp_path / "my-knowledge")], elsewhere, env)
    assert again.returncode == 1 and "not empty" in again.stderr
    scored = _run(
        [magbot, "eval", "--split", "test"], elsewhere, {**env, "MAGBOT_KNOWLEDGE_DIR": str(tmp_path / "my-knowledge")}
    )
    assert scored.returncode == 0 and "citation hit rate" in scored.stdout
