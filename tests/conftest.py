"""Shared fixtures: one real embedding model per test session, real Chroma directories on disk."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from magbot._settings import Settings
from magbot.embed import Embedder, offline_environment
from magbot.pipeline import Magbot

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"

offline_environment()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder()
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
