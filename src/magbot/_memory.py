"""Keep a long-running process's memory near what it uses (glibc's allocator, Linux).

Embedding a batch allocates buffers of a few megabytes. glibc serves such buffers from ``mmap`` at first,
then, after one is freed, raises its threshold and serves later ones from the heap, which it rarely gives
back: a server's memory grows by the largest batches it has seen. Fixing the trim threshold turns that
adjustment off (as ``MALLOC_TRIM_THRESHOLD_`` would), so large buffers go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

__all__ = ["return_freed_memory"]

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
TRIM_THRESHOLD = 1 << 20  # bytes of free memory at the top of the heap before it is returned


def return_freed_memory() -> bool:
    """Ask glibc to return freed memory promptly. True when applied; False elsewhere (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    log.debug("glibc trim threshold %s", "set" if applied else "not set")
    return applied
