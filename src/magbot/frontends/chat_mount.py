"""The Gradio chat page, mounted at ``/`` but built on its first request.

Importing Gradio and building the chat costs a server process about 115 MB and a second or two. A worker
that only answers the JSON API or the site widget never needs it, so the chat is built when someone first
opens the page (or calls its API), once per process, under a lock; until then it costs nothing. Other
paths (a mistyped API route, a scanner probing for admin pages) get a 404 without building it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["CHAT_PATHS", "LazyChat"]

# The first path segments Gradio's app serves ("" is the page itself); tests check this against Gradio's own list.
CHAT_PATHS = frozenset(
    {"", "gradio_api", "config", "theme.css", "assets", "static", "svelte", "favicon.ico", "manifest.json",
     "pwa_icon", "robots.txt", "login", "logout", "monitoring"}
)  # fmt: skip
_NOT_FOUND = b'{"detail":"Not Found"}'


class LazyChat:
    """An ASGI app that builds the real one with ``build`` (in a worker thread) on the first request, enters
    its lifespan (Gradio starts its queue there), then hands every request to it. ``aclose`` runs the
    lifespan's shutdown; call it from the parent app's lifespan."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None
        self._lock: asyncio.Lock | None = None
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None and scope["type"] == "http" and _first_segment(scope["path"]) not in CHAT_PATHS:
            await _not_found(send)
            return
        app = self._app if self._app is not None else await self._load()
        await app(scope, receive, send)

    async def _load(self) -> Any:
        import anyio.to_thread

        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._app is None:  # a failed build raises to this request; the next one tries again
                app = await anyio.to_thread.run_sync(self._build)
                await self._stack.enter_async_context(app.router.lifespan_context(app))
                self._app = app
                log.info("web chat built")
        return self._app

    async def aclose(self) -> None:
        await self._stack.aclose()


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


async def _not_found(send: Any) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_NOT_FOUND)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": _NOT_FOUND})
