"""The web app: FastAPI with the JSON API, the site widget, and the Gradio chat mounted at ``/``."""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from magbot._errors import MagbotError
from magbot._memory import return_freed_memory
from magbot._settings import Settings
from magbot.admin.feedback import FeedbackStore
from magbot.frontends.websecurity import (
    CHAT_CSP,
    STRICT_CSP,
    RateLimiter,
    client_ip,
    frame_ancestors,
    origin_allowed,
    own_origin,
)
from magbot.index.embed import offline_environment
from magbot.pipeline import Magbot

log = logging.getLogger(__name__)


def _static(name: str) -> str:
    return resources.files("magbot.frontends").joinpath("static", name).read_text(encoding="utf-8")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: Any, limit: int, chat_limit: int) -> None:
        self.app, self.limit, self.chat_limit = app, limit, chat_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        limit = self.limit if scope["type"] == "http" and scope["path"].startswith("/api/") else None
        if scope["type"] == "http" and scope["path"].startswith("/gradio_api/"):
            limit = self.chat_limit
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        # Read the whole body first (it is small), so a chunked body over the cap is a 413 like any other.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body"):
                break
        body, sent = b"".join(chunks), False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any, limit: int) -> None:
        body = b'{"detail": "The request body is too large (limit %d bytes)."}' % limit
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-content-type-options", b"nosniff"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


# The web chat's own ways to ask (Gradio): each POST here is one question or one rating.
_CHAT_ASKS = ("/gradio_api/queue/join", "/gradio_api/call/", "/gradio_api/run/", "/gradio_api/api/")


class ChatGate:
    """The same gate as the JSON API for the web chat's endpoints: allowed origins and the per-client limit
    (in the same storage, so several workers share the count)."""

    def __init__(self, app: Any, settings: Settings, limiter: RateLimiter) -> None:
        self.app, self.settings, self.limiter = app, settings, limiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(_CHAT_ASKS):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        own = own_origin(scope.get("scheme", "http"), headers, self.settings)
        if not origin_allowed(headers.get("origin"), own, self.settings):
            await _json(send, 403, {"detail": "This site is not allowed to use magbot's chat."})
            return
        peer = scope["client"][0] if scope.get("client") else None
        key = client_ip(peer, headers.get("x-forwarded-for"), self.settings.trusted_proxies)
        verdict = self.limiter.hit(key)
        if not verdict.allowed:
            message = f"Too many questions. Please wait {verdict.retry_after} seconds."
            await _json(send, 429, {"detail": message}, [(b"retry-after", str(verdict.retry_after).encode())])
            return
        await self.app(scope, receive, send)


async def _json(send: Any, status: int, data: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(data).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, bot: Magbot | None = None) -> Any:
    offline_environment()
    return_freed_memory()  # a server's memory stays near what it uses, not its largest batch so far
    import contextlib
    from collections.abc import AsyncIterator

    from fastapi import FastAPI, Request
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from magbot.frontends.api import UNAVAILABLE, UNEXPECTED, build_router
    from magbot.frontends.chat_mount import LazyChat
    from magbot.frontends.ui import sources_page

    bot = bot or Magbot(settings)
    bot.open()  # model and index load at start-up, not on the first question
    store = FeedbackStore(settings.feedback_path, settings.feedback_retention_days)
    limiter = RateLimiter(settings.rate_limit, settings.rate_limit_storage)
    docs = settings.api_docs

    def build_chat() -> Any:
        import gradio as gr

        from magbot.frontends.ui import CSS, build_blocks

        host = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        return gr.mount_gradio_app(host, build_blocks(bot, store), path="/", css=CSS, footer_links=[])

    chat = LazyChat(build_chat)

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        await chat.aclose()

    app = FastAPI(
        lifespan=lifespan,
        title="magbot",
        version="0.1.0",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        description="Cited answers about magnesium and nerve pain. Not medical advice.",
    )
    strict = STRICT_CSP.format(ancestors=frame_ancestors(settings))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "The request body is not valid JSON."}, status_code=400)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse(
            {"detail": f"Invalid request: {where or 'body'}: {first.get('msg', 'invalid')}."}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.url.path.startswith("/api/"):  # a body FastAPI could not decode
            return JSONResponse({"detail": "The request body is not valid JSON."}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(MagbotError)
    async def unavailable(request: Request, exc: MagbotError) -> JSONResponse:
        log.error("cannot answer: %s", exc)  # the detail stays in the log, never in a reply
        return JSONResponse({"detail": UNAVAILABLE}, status_code=503)

    threads_set = False

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        nonlocal threads_set
        if not threads_set:  # answers are CPU work: a few threads per worker, not anyio's default of 40
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
            threads_set = True
        if request.url.path.startswith(_UPLOADS):  # the chat takes no files
            response: Any = JSONResponse({"detail": "Uploads are not accepted."}, status_code=403)
        elif not docs and request.url.path.rstrip("/") in _DOCS:  # also the mounted Gradio app's own schema
            response = JSONResponse({"detail": "Not Found"}, status_code=404)
        else:
            try:
                response = await call_next(request)
            except Exception:  # a bug, not a refusal: logged here once, with the path; the reply says nothing
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                response = JSONResponse({"detail": UNEXPECTED}, status_code=500)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        path = request.url.path
        if path in ("/embed", "/sources") or path.startswith("/static/"):
            response.headers["Content-Security-Policy"] = strict
        elif not path.startswith("/api/") and path != "/widget.js":
            response.headers.setdefault("Content-Security-Policy", CHAT_CSP)
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.origins),
        allow_credentials=False,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(ChatGate, settings=settings, limiter=limiter)
    if settings.public_host:  # answer only to the public name (and loopback, for health checks)
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=[settings.public_host, "127.0.0.1", "localhost"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, chat_limit=settings.max_chat_body_bytes)
    app.include_router(build_router(bot, settings, store, limiter))

    static_types = {"embed.js": "text/javascript", "embed.css": "text/css", "sources.css": "text/css"}

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response(
            _static("widget.js"), media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"}
        )

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in static_types:
            return Response(status_code=404)
        return Response(_static(name), media_type=static_types[name], headers={"Cache-Control": "public, max-age=300"})

    @app.get("/robots.txt", include_in_schema=False)
    def robots() -> Response:  # served here, so a crawler's first request does not build the chat
        return Response("User-agent: *\nDisallow: /api/\n", media_type="text/plain")

    @app.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed() -> str:
        return _static("embed.html")

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources() -> str:
        return sources_page(bot)

    app.mount("/", chat)  # the Gradio chat, built on its first request (chat_mount.py)
    return app


_UPLOADS = ("/gradio_api/upload", "/upload")
# uvicorn reached directly: no server banner, bounded header size, idle connections closed after 5 s.
UVICORN_LIMITS: dict[str, Any] = {
    "log_level": "warning",
    "proxy_headers": False,
    "server_header": False,
    "h11_max_incomplete_event_size": 16_384,
    "timeout_keep_alive": 5,
}
_DOCS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


def app_from_env() -> Any:
    """App factory for uvicorn workers: each worker builds its own app from the MAGBOT_* environment."""
    return create_app(Settings())


def prepare(settings: Settings) -> None:
    """Build or check the index, the exported model and every cache in a child process (``magbot ingest``),
    so serving processes start from files and never load what only building needs (torch for the export,
    scikit-learn for the fits, the full word list): their memory stays at what answering needs."""
    import subprocess
    import sys

    log.info("checking the index and caches (building what is missing)...")
    done = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "ingest"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        detail = lines[-1].removeprefix("magbot: error: ") if lines else f"exit status {done.returncode}"
        raise MagbotError(f"could not prepare the index: {detail}")


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    import uvicorn

    prepare(settings)

    host, port = host or settings.host, port or settings.port
    if workers > 1:
        # Each worker loads the model and opens the index itself; see the README on shared rate-limit storage.
        log.info("magbot starting %d workers: http://%s:%s/", workers, host, port)
        uvicorn.run(
            "magbot.frontends.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **UVICORN_LIMITS,
        )
        return
    app = create_app(settings)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:  # the port is bound: only now is magbot really ready
                log.info("magbot ready: http://%s:%s/ (stop with Ctrl+C)", host, port)

    Server(uvicorn.Config(app, host=host, port=port, **UVICORN_LIMITS)).run()
