"""Micro-batching: questions asked at the same time in one process are embedded in one model call.

One background thread runs the model. A caller puts its texts in the queue and waits. The thread takes
everything queued (up to ``max_texts``) and embeds it together, so under load the model runs fewer,
larger batches instead of queueing calls one by one. When the last batch held several callers (people
are asking at once), the thread first waits up to ``wait_ms`` for more to arrive; a lone caller is never
kept waiting. Large requests (an index build) skip the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from magbot.index.embed import Embedder

log = logging.getLogger(__name__)

__all__ = ["BatchingEmbedder"]


@dataclass
class _Job:
    texts: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    result: np.ndarray | None = None
    error: BaseException | None = None


class BatchingEmbedder(Embedder):
    """Wraps an embedder; same vectors, same name, shared by many threads."""

    def __init__(self, inner: Embedder, wait_ms: float = 2.0, max_texts: int = 64) -> None:
        super().__init__()
        self.inner = inner
        self.backend = inner.backend
        self.variant = inner.variant
        self.wait_s = max(0.0, wait_ms) / 1000.0
        self.max_texts = max(1, max_texts)
        self._queue: list[_Job] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._last_jobs = 0
        self.batches = 0  # model calls made for queued jobs, and the jobs they served
        self.jobs = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model_dir(self) -> Path:
        return self.inner.model_dir

    @property
    def cache_dir(self) -> Path:
        return self.inner.cache_dir

    def load(self) -> None:
        self.inner.load()

    def _load(self) -> None:  # pragma: no cover - load() is delegated
        self.inner.load()

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if len(texts) >= self.max_texts:
            return self.inner.embed(texts, batch_size)
        job = _Job(texts)
        with self._cond:
            self._queue.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name="magbot-embed", daemon=True)
                self._worker.start()
            self._cond.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _take(self) -> list[_Job]:
        with self._cond:
            while not self._queue:
                self._cond.wait()
            if self.wait_s and self._last_jobs > 1:  # others are asking too: give them a moment to arrive
                deadline = time.monotonic() + self.wait_s
                while sum(len(j.texts) for j in self._queue) < self.max_texts:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            jobs: list[_Job] = []
            count = 0
            while self._queue and (not jobs or count + len(self._queue[0].texts) <= self.max_texts):
                job = self._queue.pop(0)
                jobs.append(job)
                count += len(job.texts)
            self._last_jobs = len(jobs)
            return jobs

    def _serve(self) -> None:
        while True:
            jobs = self._take()
            texts = [t for j in jobs for t in j.texts]
            try:
                vectors = self.inner.embed(texts, batch_size=max(len(texts), 1))
            except BaseException as exc:  # handed to every caller of this batch
                for job in jobs:
                    job.error = exc
                    job.done.set()
                continue
            self.batches += 1
            self.jobs += len(jobs)
            start = 0
            for job in jobs:
                job.result = vectors[start : start + len(job.texts)]
                start += len(job.texts)
                job.done.set()
