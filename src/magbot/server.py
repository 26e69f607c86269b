"""The web app: FastAPI with the Gradio chat mounted at ``/`` and a sources page, served by uvicorn."""

from __future__ import annotations

import logging
from typing import Any

from ._settings import Settings
from .embed import offline_environment
from .feedback import FeedbackStore
from .pipeline import Magbot

log = logging.getLogger(__name__)


def create_app(settings: Settings, bot: Magbot | None = None) -> Any:
    offline_environment()
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    from .ui import CSS, build_blocks, sources_page

    bot = bot or Magbot(settings)
    bot.open()  # model and index load at start-up, not on the first question
    store = FeedbackStore(settings.feedback_path)
    app = FastAPI(title="magbot", docs_url="/docs")

    @app.get("/sources", response_class=HTMLResponse)
    def sources() -> str:
        return sources_page(bot)

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ready": True, "index_version": bot.index_version, "sources": len(bot.knowledge.sources)}

    demo = build_blocks(bot, store)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, footer_links=[])


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    app = create_app(settings)
    host, port = host or settings.host, port or settings.port
    log.warning("magbot ready: http://%s:%s/", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
