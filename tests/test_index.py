"""The Chroma index on disk: built once, reused when nothing changed, rebuilt when anything did."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest

from magbot import IndexError_, Magbot, Settings
from magbot.embed import Embedder


def _bot(data: Path, knowledge: Path, embedder: Embedder, **kw: int) -> Magbot:
    return Magbot(Settings(data_dir=data, knowledge_dir=knowledge, **kw), embedder=embedder)


def _collections(data: Path) -> set[str]:
    client = chromadb.PersistentClient(path=str(data / "index"))
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def test_build_reuse_and_rebuild_on_change(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    first = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert first.built and first.chunks > 50 and first.sentences > first.chunks
    again = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert not again.built and again.version == first.version  # nothing changed: no embedding work

    study = knowledge_copy / "studies" / "ref-7.md"
    study.write_text(study.read_text(encoding="utf-8") + "\nA sentence added by a site owner.\n", encoding="utf-8")
    changed = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert changed.built and changed.version != first.version
    names = _collections(tmp_path)
    assert f"magbot-{changed.version}-passages" in names
    assert not any(first.version in n for n in names)  # the stale index is gone

    resized = _bot(tmp_path, knowledge_copy, embedder, chunk_size=400).ingest()
    assert resized.built and resized.version != changed.version and resized.chunks > changed.chunks


def test_ask_builds_a_missing_index_first(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    bot = _bot(tmp_path, knowledge_copy, embedder)
    announced: list[bool] = []
    report = bot.open(on_build=lambda: announced.append(True))
    assert announced == [True] and report is not None and report.built
    answer = bot.ask("What did the back pain trial find?")
    assert answer.status == "answered" and answer.index_version == report.version


def test_unreadable_index_directory_is_a_clear_error(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    (tmp_path / "index").write_text("not a directory")
    with pytest.raises(IndexError_, match="cannot open the index"):
        _bot(tmp_path, knowledge_copy, embedder).ingest()
