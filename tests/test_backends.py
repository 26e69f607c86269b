"""Embedding backends: the ONNX export agrees with torch, never mixes with it, serves without torch, and
batches questions asked at the same time."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from magbot._errors import ConfigError
from magbot._settings import Settings
from magbot.index.batching import BatchingEmbedder
from magbot.index.chunking import chunk_knowledge, index_text
from magbot.index.embed import Embedder, TorchEmbedder, make_embedder
from magbot.index.ingest import load_knowledge
from magbot.index.onnx_model import OnnxEmbedder, model_calls
from magbot.pipeline import Magbot

from .conftest import KNOWLEDGE, run_script


def _passages() -> list[str]:
    settings = Settings(knowledge_dir=KNOWLEDGE)
    kb = load_knowledge(KNOWLEDGE)
    return [index_text(c, kb.by_id[c.source_id]) for c in chunk_knowledge(kb, settings.chunk_size, 0)]


def test_onnx_vectors_agree_with_torch_for_every_passage_and_question(model_cache: Path, embedder: Embedder) -> None:
    assert embedder.backend == "onnx"
    kb = load_knowledge(KNOWLEDGE)
    texts = _passages() + [q for s in kb.sources for q in s.questions] + ["mag", "is it safe with gabapentin??"]
    torch_vectors = TorchEmbedder(cache_dir=model_cache).embed(texts)
    onnx_vectors = embedder.embed(texts)
    cosines = np.sum(torch_vectors * onnx_vectors, axis=1)
    assert len(texts) > 200
    assert cosines.min() >= 0.999, texts[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)


def test_each_backend_gets_its_own_index(tmp_path: Path, knowledge_copy: Path, embedder: Embedder) -> None:
    onnx_bot = Magbot(Settings(data_dir=tmp_path, knowledge_dir=knowledge_copy), embedder=embedder)
    onnx_report = onnx_bot.ingest()
    torch_settings = Settings(data_dir=tmp_path, knowledge_dir=knowledge_copy, embed_backend="torch")
    torch_bot = Magbot(torch_settings)
    _, _, _, store = torch_bot._plan()
    assert not store.exists(), "a torch index must not reuse vectors made by onnxruntime"
    torch_report = torch_bot.ingest()
    assert torch_report.built and torch_report.version != onnx_report.version
    assert store.built_by() == torch_bot.embedder.name and store.built_by() != embedder.name
    assert "|torch|" in (store.built_by() or "")
    answer = torch_bot.ask("What did the back pain trial find?")
    assert answer.status == "answered" and any("Yousef" in c.label for c in answer.citations)
    assert onnx_bot.ingest().built  # switching back rebuilds: one index on disk, never two kinds of vectors


def test_serving_never_imports_torch(built_data_dir: Path, model_cache: Path) -> None:
    script = (
        "import json, sys\n"
        "from magbot import Magbot, Settings\n"
        "bot = Magbot(Settings())\n"
        "answer = bot.ask('does magnesium help nerve pain in my feet?')\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'sklearn') if m in sys.modules)\n"
        "print(json.dumps({'status': answer.status, 'cited': [c.label for c in answer.citations], 'heavy': heavy}))\n"
    )
    result = run_script(script, built_data_dir, model_cache, timeout=120)
    assert result["status"] == "answered" and result["cited"]
    assert result["heavy"] == []


def test_questions_asked_at_once_are_embedded_together(embedder: Embedder) -> None:
    assert isinstance(embedder, BatchingEmbedder)
    batcher = BatchingEmbedder(embedder.inner, wait_ms=5, max_texts=64)
    questions = [f"does magnesium help nerve pain number {i}?" for i in range(24)]
    alone = embedder.inner.embed(questions)
    start = threading.Barrier(len(questions))
    got: dict[int, np.ndarray] = {}

    def ask(i: int) -> None:
        start.wait()
        got[i] = batcher.embed_one(questions[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(got) == list(range(len(questions)))
    assert batcher.jobs == len(questions) and batcher.batches < len(questions)
    for i, vector in got.items():
        assert float(vector @ alone[i]) >= 0.9999


def test_short_texts_are_not_padded_to_a_long_question(embedder: Embedder) -> None:
    # one run for texts of about the same length; a long question and single words in two runs
    assert model_calls([9, 10, 11], max_rows=32) == [[0, 1, 2]]
    assert model_calls([60, 3, 4, 3], max_rows=32) == [[1, 3, 2], [0]]
    groups = model_calls([5, 80, 7, 3, 40, 6, 90, 4] * 5, max_rows=4)
    assert sorted(i for g in groups for i in g) == list(range(40)) and max(len(g) for g in groups) <= 4
    texts = [
        "my mum has burning feet from her diabetes and the gp says there is nothing more to do, would magnesium"
        " tablets be worth trying or is it a waste of her money",
        "gabapentin",
        "feet",
        "sugar",
    ]
    inner = embedder.inner
    together = inner.embed(texts)
    for text, vector in zip(texts, together, strict=True):
        assert float(vector @ inner.embed([text])[0]) >= 0.9999, text


class _Broken(Embedder):
    backend = "broken"

    def _load(self) -> None:
        pass

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise ConfigError("the model file is unreadable")


def test_a_failing_model_fails_each_waiting_caller_with_its_error(tmp_path: Path) -> None:
    batcher = BatchingEmbedder(_Broken(model_dir=tmp_path, cache_dir=tmp_path), wait_ms=1)
    with pytest.raises(ConfigError, match="unreadable"):
        batcher.embed(["a question"])
    with pytest.raises(ConfigError, match="unreadable"):  # the worker thread survives a failure
        batcher.embed(["another question"])


def test_a_damaged_onnx_file_is_a_clear_error(tmp_path: Path, embedder: Embedder) -> None:
    damaged = OnnxEmbedder(cache_dir=tmp_path)
    damaged.onnx_path.parent.mkdir(parents=True, exist_ok=True)
    damaged.onnx_path.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="delete it to export it again"):
        damaged.load()


def test_the_default_backend_exports_once_into_the_model_cache(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", model_cache_dir=tmp_path / "models")
    first = make_embedder(settings)
    vector = first.embed_one("magnesium and nerve pain")
    exported = list((tmp_path / "models").glob("*/model.onnx"))
    assert len(exported) == 1 and first.backend == "onnx"
    assert (exported[0].parent / "model.onnx.data").is_file()  # the weights, mapped rather than copied
    stamp = exported[0].stat().st_mtime_ns
    second = make_embedder(settings)
    assert second.name == first.name
    assert float(second.embed_one("magnesium and nerve pain") @ vector) >= 0.99999
    assert exported[0].stat().st_mtime_ns == stamp  # reused, not exported again


def test_the_cached_common_word_list_answers_as_wordfreq_does(tmp_path: Path) -> None:
    from wordfreq import get_frequency_dict, zipf_frequency

    from magbot.text import KNOWN_WORD_ZIPF, CommonWords

    built = CommonWords.load(tmp_path)  # from wordfreq, then written to the cache
    cached = CommonWords.load(tmp_path)  # from the file
    assert len(list(tmp_path.glob("common-words-*.txt"))) == 1
    table = sorted(get_frequency_dict("en", "large"))
    sample = [*table[::97], "mag", "lol", "atm", "prediabetic", "gabapentin", "naturopath", "magnesum", "PROVE", "it's"]
    sample += ["check-up", "at-risk", "pre-diabetic", "nerve-test", "gabapentin-ish", "diabetics'", "'backed", "g'day"]
    for word in [w for w in sample if not any(ch.isdigit() for ch in w)]:  # digits: see below
        expected = zipf_frequency(word, "en") >= KNOWN_WORD_ZIPF
        assert (word in built) == expected == (word in cached), word
    # a word with digits is never a common word; answering such words never loads wordfreq's list (50 MB)
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom magbot.text import CommonWords\n"
        f"c = CommonWords.load(Path({str(tmp_path)!r}))\n"
        "words = ['b12', '3am', 'check-up', \"diabetics'\", 'magnesum']\n"
        "print(json.dumps({'common': [w in c for w in words], 'loaded': 'wordfreq' in sys.modules}))"
    )
    got = run_script(script, tmp_path, tmp_path)
    assert got == {"common": [False, False, True, True, False], "loaded": False}


def test_chunks_are_cached_by_knowledge_and_settings(tmp_path: Path, knowledge_copy: Path) -> None:
    kb = load_knowledge(knowledge_copy)
    fresh = chunk_knowledge(kb, 700, 0, tmp_path)
    assert chunk_knowledge(kb, 700, 0, tmp_path) == fresh == chunk_knowledge(kb, 700, 0)
    assert chunk_knowledge(kb, 400, 0, tmp_path) != fresh
    assert len(list(tmp_path.glob("chunks-*.json"))) == 2
