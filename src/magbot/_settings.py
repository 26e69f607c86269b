"""Settings, read from ``MAGBOT_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def bundled(name: str) -> Path:
    """A folder magbot ships: ``knowledge`` or ``eval``. In a checkout, the repository's own folder; in an
    installed wheel, the copy inside the package (``magbot/bundled/<name>``)."""
    here = Path(__file__).resolve().parent
    checkout = here.parents[1] / name
    if (here.parents[1] / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return here / "bundled" / name


def _default_data_dir() -> Path:
    return Path(user_data_dir("magbot", appauthor=False))


class Settings(BaseSettings):
    """Every knob magbot has. Environment: ``MAGBOT_<NAME>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="MAGBOT_", frozen=True, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Index and other state.")
    knowledge_dir: Path = Field(
        default_factory=lambda: bundled("knowledge"),
        description="Folder of knowledge files (default: the bundled one).",
    )
    embed_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        default="onnx",
        description="What runs the embedding model: onnx (onnxruntime, no torch, fast to start), onnx-int8 (the "
        "same with 8-bit weights: smaller and faster, slightly different vectors) or torch (sentence-transformers). "
        "Each has its own index.",
    )
    embed_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Threads onnxruntime uses per process (0 = one per core). With one worker per core, 1 is best; "
        "`magbot ingest` uses every core unless this is set.",
    )
    embed_batch_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=100,
        description="When several questions arrive at once, how long to wait to embed them together.",
    )
    embed_batch_max: int = Field(default=64, ge=1, le=1024, description="Most texts embedded in one batch.")
    model_cache_dir: Path | None = Field(
        default=None, description="Where the exported ONNX model and its hash are kept (default: <data dir>/models)."
    )
    worker_threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Questions one server process works on at once (more wait their turn; each extra thread costs "
        "memory, and answering is CPU work).",
    )
    chunk_size: int = Field(default=700, ge=100, le=4000, description="Max characters per passage.")
    chunk_overlap: int = Field(default=0, ge=0, le=1000, description="Characters shared by split passages.")
    top_k: int = Field(default=6, ge=1, le=30, description="Passages kept after fusion.")
    max_sentences: int = Field(default=3, ge=1, le=10, description="Sentences in an extractive answer.")
    max_question_chars: int = Field(default=2000, ge=10, le=100_000, description="Longest question.")
    max_history_turns: int = Field(
        default=10,
        ge=0,
        le=100,
        description="The one history limit: earlier exchanges (question and answer) used for follow-ups, kept by the "
        "web chat per session and accepted by the API (twice as many messages).",
    )
    min_similarity: float = Field(
        default=0.30, ge=-1, le=1, description="Below this best match with any finding or passage, decline."
    )
    urgent_cost: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="How many false alarms one missed emergency is worth, on the example messages' own mix "
        "(a third emergencies, far more than real traffic, so 1.0 already leans towards flagging).",
    )
    host: str = Field(default="127.0.0.1", description="Web app host.")
    port: int = Field(default=7860, ge=1, le=65535, description="Web app port.")
    log_level: str = Field(
        default="", description="Python logging level (default: INFO for the web app, WARNING for commands)."
    )
    chroma_url: str | None = Field(default=None, description="A Chroma server (http://host:8000) instead of disk.")
    chroma_token: SecretStr | None = Field(default=None, description="Bearer token sent to the Chroma server.")
    ncbi_base_url: str = Field(
        default="https://eutils.ncbi.nlm.nih.gov/entrez/eutils", description="NCBI E-utilities base URL."
    )
    ncbi_api_key: SecretStr | None = Field(default=None, description="NCBI API key (allows 10 requests/s).")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint; unset = extractive.")
    llm_model: str = Field(default="local-model", description="Model name sent to the endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, description="API key for the endpoint (never logged).")
    llm_timeout: float = Field(default=30.0, gt=0, le=600, description="Seconds before falling back.")
    llm_max_tokens: int = Field(default=300, ge=16, le=4096, description="Longest generated answer.")
    llm_support_threshold: float = Field(
        default=0.55, ge=-1, le=1, description="Least similarity between a generated sentence and its passage."
    )
    public_url: str | None = Field(
        default=None, description="Where people reach magbot (https://bot.clinic.example); other Host values refused."
    )
    allowed_origins: str = Field(
        default="", description="Comma-separated sites that may call the API and embed the widget (exact origins)."
    )
    rate_limit: str = Field(default="20/minute", description="Per-IP limit on the ask endpoints.")
    rate_limit_storage: str = Field(default="memory://", description="Rate limiter storage URI (memory://, redis://).")
    api_docs: bool = Field(default=False, description="Serve /docs, /redoc and /openapi.json (off in public).")
    feedback_rate_limit: str = Field(default="10/minute", description="Per-IP limit on /api/feedback.")
    feedback_retention_days: int = Field(
        default=180, ge=0, le=36500, description="Feedback older than this is deleted automatically (0 = keep)."
    )
    trusted_proxies: int = Field(default=0, ge=0, le=10, description="Reverse proxies in front of the app.")
    max_body_bytes: int = Field(default=65_536, ge=1024, le=10_000_000, description="Largest API request body.")
    max_chat_body_bytes: int = Field(
        default=65_536, ge=16_384, le=50_000_000, description="Largest request the web chat may send."
    )
    chat_sessions: int = Field(
        default=200, ge=1, le=100_000, description="Web chat sessions kept in memory per worker (oldest dropped)."
    )
    chat_session_ttl: int = Field(
        default=3600, ge=60, le=86_400, description="Seconds a web chat session's history is kept after its last turn."
    )

    @property
    def max_history_messages(self) -> int:
        """Messages in the history limit: a question and its answer per exchange."""
        return 2 * self.max_history_turns

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("allowed_origins")
    @classmethod
    def _exact_origins(cls, value: str) -> str:
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\[[0-9a-fA-F:]+\](:\d{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an exact origin like https://clinic.example (no path, no *)")
        return value

    @field_validator("rate_limit", "feedback_rate_limit")
    @classmethod
    def _limit_syntax(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate like 20/minute") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?", value):
            raise ValueError(f"{value!r} is not a public address like https://bot.clinic.example (no path)")
        return value.rstrip("/") if value else None

    @property
    def public_host(self) -> str | None:
        """The host name of MAGBOT_PUBLIC_URL (without scheme or port)."""
        if not self.public_url:
            return None
        return self.public_url.split("://", 1)[1].split(":")[0]

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.allowed_origins.split(",") if o.strip())

    @property
    def model_cache(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.sqlite3"
