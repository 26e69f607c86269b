"""Writing derived files (embeddings, fits, word lists, passages, hashes) so that no reader sees half a file."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["array_bytes", "write_cache"]


def write_cache(path: Path, data: bytes | str, what: str) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename). A folder that cannot be
    written only costs redoing the work next time, so the failure is a warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not cache %s in %s: %s", what, path.parent, exc)


def array_bytes(array: np.ndarray | None = None, **named: np.ndarray) -> bytes:
    """What ``np.save`` (one array) or ``np.savez`` (named arrays) would write, as bytes."""
    buffer = io.BytesIO()
    if array is not None:
        np.save(buffer, array)
    else:
        np.savez(buffer, **named)  # type: ignore[arg-type]
    return buffer.getvalue()
