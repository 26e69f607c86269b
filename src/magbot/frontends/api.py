"""The JSON API: /api/ask, /api/ask/stream (SSE), /api/health, /api/sources, /api/feedback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from magbot._errors import MagbotError
from magbot._models import Answer, Turn
from magbot._settings import Settings
from magbot.admin.feedback import FeedbackStore
from magbot.frontends.websecurity import RateLimiter, client_ip, origin_allowed, own_origin
from magbot.pipeline import Magbot
from magbot.stages.safety import validate

log = logging.getLogger(__name__)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=100_000)
    history: list[Turn] = Field(default_factory=list)


def _text(value: str) -> str:
    """Text that can be stored: no lone surrogates or NUL characters (they are not text)."""
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("contains characters that are not text")
    return value


Text = Annotated[str, AfterValidator(_text)]


class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    marker: Text | None = Field(default=None, max_length=40)
    id: Text | None = Field(default=None, max_length=80)
    url: Text | None = Field(default=None, max_length=300)


class FeedbackAnswer(BaseModel):
    """The part of an answer object that feedback keeps; anything else sent is ignored."""

    model_config = ConfigDict(extra="ignore")

    question: Text = Field(default="", max_length=5000)
    answer: Text = Field(default="", max_length=20_000)
    status: Literal["answered", "not_in_sources", "out_of_scope", "urgent", "invalid"] | None = None
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=20)
    index_version: Text | None = Field(default=None, max_length=100)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rating: Literal["up", "down"]
    reason: Literal["wrong citation", "not supported by the study", "unclear", "unsafe"] | None = None
    comment: Text | None = Field(default=None, max_length=2000)
    answer: FeedbackAnswer


class ErrorBody(BaseModel):
    """Every refusal: one sentence saying what was wrong."""

    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The body is not valid JSON."},
    403: {"model": ErrorBody, "description": "The calling site is not allowed."},
    413: {"model": ErrorBody, "description": "The body is too large."},
    429: {"model": ErrorBody, "description": "Too many requests; see Retry-After."},
    503: {"model": ErrorBody, "description": "The index cannot be read just now."},
}
_ANSWER_OR_ERROR = {
    "application/json": {
        "schema": {"anyOf": [{"$ref": "#/components/schemas/Answer"}, {"$ref": "#/components/schemas/ErrorBody"}]}
    }
}
# Each event: "delta" and "replace" carry {"text": ...} as JSON data, the last "answer" the answer object.
_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {"event": {"enum": ["delta", "replace", "answer"]}, "data": {"type": "string"}},
}
_ASK_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    422: {
        "description": "An unreadable question (the answer object, status invalid) or field.",
        "content": _ANSWER_OR_ERROR,
    },
}


def source_record(source: Any) -> dict[str, Any]:
    return {
        "id": source.id,
        "number": source.number,
        "marker": source.marker,
        "title": source.title,
        "authors": source.author_line,
        "year": source.year,
        "journal": source.journal,
        "url": source.url,
        "study_type": source.study_type,
        "evidence_level": source.evidence_level,
        "evidence_note": source.evidence_note,
    }


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


UNAVAILABLE = "magbot cannot answer right now. Please try again later."
UNEXPECTED = "Something went wrong on magbot's side. Please try again later."


def stream_events(bot: Magbot, body: AskRequest) -> Iterator[str]:
    """``delta`` events as the answer is written, ``replace`` if checking changed it, then ``answer``; if
    answering fails once the stream has begun, an ``error`` event with a plain message ends it (the
    detail goes to the log, once)."""
    try:
        for event in bot.ask_stream(body.question, body.history):
            if event.answer is not None:
                yield sse("answer", event.answer.model_dump())
            else:
                yield sse(event.kind, {"text": event.text})
    except MagbotError as exc:
        log.error("cannot answer: %s", exc)
        yield sse("error", {"detail": UNAVAILABLE})
    except Exception:
        log.exception("unexpected error while streaming an answer")
        yield sse("error", {"detail": UNEXPECTED})


def build_router(
    bot: Magbot,
    settings: Settings,
    store: FeedbackStore,
    limiter: RateLimiter,
    feedback_limiter: RateLimiter | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/api")
    feedback_limiter = feedback_limiter or RateLimiter(
        settings.feedback_rate_limit, settings.rate_limit_storage, namespace="feedback"
    )

    def guard(request: Request, limited: bool, limits: RateLimiter = limiter) -> None:
        if not origin_allowed(
            request.headers.get("origin"), own_origin(request.url.scheme, request.headers, settings), settings
        ):
            raise HTTPException(403, "This site is not allowed to use magbot's API.")
        if limited:
            key = client_ip(
                request.client.host if request.client else None,
                request.headers.get("x-forwarded-for"),
                settings.trusted_proxies,
            )
            verdict = limits.hit(key)
            if not verdict.allowed:
                what = "questions" if limits is limiter else "ratings"
                raise HTTPException(
                    429,
                    f"Too many {what}. Please wait {verdict.retry_after} seconds.",
                    headers={"Retry-After": str(verdict.retry_after)},
                )

    def admit(request: Request, body: AskRequest) -> None:
        guard(request, limited=True)
        if len(body.history) > settings.max_history_messages:
            raise HTTPException(
                422,
                f"History is too long ({len(body.history)} messages; the limit is {settings.max_history_messages}).",
            )

    def answer_for(request: Request, body: AskRequest) -> Answer:
        admit(request, body)
        return bot.ask(body.question, body.history)

    @router.post(
        "/ask", response_model=Answer, responses=_ASK_RESPONSES, summary="Answer one question (the answer object)"
    )
    def ask(request: Request, body: AskRequest) -> JSONResponse:
        answer = answer_for(request, body)
        return JSONResponse(answer.model_dump(), status_code=422 if answer.status == "invalid" else 200)

    @router.post(
        "/ask/stream",
        responses={
            **_ASK_RESPONSES,
            200: {
                "description": "Server-sent events",
                "content": {"text/event-stream": {"schema": _EVENT}},
            },
        },
        summary="Answer as server-sent events: delta events, then an answer event",
    )
    def ask_stream(request: Request, body: AskRequest) -> Response:
        admit(request, body)
        if validate(body.question, settings.max_question_chars).problem:
            return JSONResponse(bot.ask(body.question).model_dump(), status_code=422)
        return StreamingResponse(
            stream_events(bot, body),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/health", summary="Readiness, index version, sources count")
    def health(request: Request) -> JSONResponse:
        body = {
            "ready": True,
            "index_version": bot.index_version,
            "sources": len(bot.knowledge.sources),
            "origin_allowed": origin_allowed(
                request.headers.get("origin"), own_origin(request.url.scheme, request.headers, settings), settings
            ),
        }
        # Any site may read this, so a widget on a site not yet allowed can say so plainly.
        return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})

    @router.get("/config", summary="What a front end needs to show answers: banners, reasons, limits, notices")
    def config() -> dict[str, Any]:
        from magbot.admin.feedback import REASONS, stored_notice
        from magbot.frontends.present import widget_config

        studies = bot.knowledge.study_count
        return widget_config(settings.max_history_messages, stored_notice(store.retention_days), REASONS, studies)

    @router.get("/sources", summary="The article and the studies magbot answers from")
    def sources() -> list[dict[str, Any]]:
        return [source_record(s) for s in bot.knowledge.sources]

    @router.post(
        "/feedback",
        status_code=201,
        responses={**_ERRORS, 422: {"model": ErrorBody, "description": "A malformed field."}},
        summary="Thumbs up/down on an answer, with reason and comment",
    )
    def feedback(request: Request, body: FeedbackRequest) -> dict[str, Any]:
        guard(request, limited=True, limits=feedback_limiter)
        record = store.add(body.rating, body.answer.model_dump(), body.reason, body.comment)
        return {"id": record}

    return router
