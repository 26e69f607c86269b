"""The Chroma index: built once, synced incrementally when knowledge files change, never left half-built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import pytest

from magbot import IndexError_, Magbot, Settings
from magbot.index.embed import Embedder

pytestmark = pytest.mark.slow  # every test here builds an index


def _bot(data: Path, knowledge: Path, embedder: Any, **kw: int) -> Magbot:
    return Magbot(Settings(data_dir=data, knowledge_dir=knowledge, **kw), embedder=embedder)


def _collections(data: Path) -> set[str]:
    client = chromadb.PersistentClient(path=str(data / "index"))
    return {c if isinstance(c, str) else c.name for c in client.list_collections()}


def test_build_reuse_and_incremental_sync(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    first = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert first.built and first.added == first.chunks > 50 and first.sentences > first.chunks
    assert len(first.files_added) == 10
    again = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert not again.built and again.version == first.version  # nothing changed: no embedding work

    study = knowledge_copy / "studies" / "ref-7.md"
    study.write_text(study.read_text(encoding="utf-8") + "\nA paragraph added by a site owner.\n", encoding="utf-8")
    added = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert (added.added, added.updated, added.removed) == (1, 0, 0)
    assert added.files_updated == ("studies/ref-7.md",) and added.version != first.version

    text = study.read_text(encoding="utf-8").replace("title: Diabetic neuropathy", "title: Diabetic nerve damage")
    study.write_text(text, encoding="utf-8")  # the title is part of every passage's embedded text
    retitled = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert retitled.added == 0 and retitled.removed == 0 and retitled.updated >= 5

    (knowledge_copy / "studies" / "ref-9.md").unlink()
    article = knowledge_copy / "article.md"
    article.write_text(article.read_text(encoding="utf-8").replace("(8,9)", "(8)"), encoding="utf-8")
    removed = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert removed.removed >= 6 and removed.files_removed == ("studies/ref-9.md",)
    bot = _bot(tmp_path, knowledge_copy, embedder)
    answer = bot.ask("Did a high magnesium diet help mice recover from sciatic nerve crush?")
    assert "ref-9" not in [c.id for c in answer.citations]


def test_chunking_settings_get_their_own_collections(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    small = _bot(tmp_path, knowledge_copy, embedder, chunk_size=400).ingest()
    default = _bot(tmp_path, knowledge_copy, embedder).ingest()
    assert small.chunks > default.chunks and small.version != default.version
    assert len(_collections(tmp_path)) == 2  # the other setting's collections were removed


class _FailingEmbedder:
    """Wraps the real model and fails after some batches, like an ingest killed half-way."""

    def __init__(self, real: Embedder, batches: int) -> None:
        self.real, self.left = real, batches
        self.name = real.name  # the same model: the same index

    def load(self) -> None:
        self.real.load()

    def embed(self, texts: list[str]) -> Any:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        return self.real.embed(texts)

    def embed_one(self, text: str) -> Any:
        return self.real.embed_one(text)


def test_interrupted_ingest_leaves_the_previous_index_usable(
    tmp_path: Path, knowledge_copy: Path, embedder: Embedder
) -> None:
    before = _bot(tmp_path, knowledge_copy, embedder).ingest()
    article = knowledge_copy / "article.md"
    original = article.read_text(encoding="utf-8")
    extra = "".join(f"New paragraph {n} about magnesium and nerves, written by the owner.\n\n" for n in range(40))
    article.write_text(
        original.replace("## In summary", "## New section\n\n" + extra + "## In summary"), encoding="utf-8"
    )
    with pytest.raises(KeyboardInterrupt):
        _bot(tmp_path, knowledge_copy, _FailingEmbedder(embedder, 1)).ingest()  # type: ignore[arg-type]
    article.write_text(original, encoding="utf-8")  # the owner reverts the edit
    bot = _bot(tmp_path, knowledge_copy, embedder)
    report = bot.open()
    assert report is not None and report.added == 0 and report.version == before.version  # nothing re-embedded
    answer = bot.ask("What did the back pain trial find?")
    assert answer.status == "answered" and answer.citations[0].id == "ref-4"


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
