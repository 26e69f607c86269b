"""What keeps the public API safe: client addresses behind proxies, rate limits, origins, page headers."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from magbot._settings import Settings

# Content-Security-Policy for magbot's own small pages (/embed, /sources): nothing from elsewhere, ever.
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
)
# The Gradio chat needs inline scripts and styles; it still loads no images, frames or code from elsewhere.
CHAT_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'self'"
)


def frame_ancestors(settings: Settings) -> str:
    return " ".join(["'self'", *settings.origins])


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The caller's address: the peer, or with N trusted proxies the Nth X-Forwarded-For entry from the right."""
    if trusted_proxies and forwarded_for:
        chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        if chain:
            return chain[max(0, len(chain) - trusted_proxies)]
    return peer or "unknown"


def own_origin(scheme: str, headers: Mapping[str, str], settings: Settings) -> str:
    """The origin browsers see magbot at: MAGBOT_PUBLIC_URL if set; else, behind trusted proxies, the scheme
    and host they forward (X-Forwarded-Proto / X-Forwarded-Host); else the request's own scheme and Host."""
    if settings.public_url:
        return settings.public_url
    host = headers.get("host", "")
    if settings.trusted_proxies:
        scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip() or scheme
        host = headers.get("x-forwarded-host", "").split(",")[0].strip() or host
    return f"{scheme}://{host}"


def origin_allowed(origin: str | None, own_origin: str, settings: Settings) -> bool:
    """Browsers send Origin on cross-site calls; only magbot itself and the configured sites may call."""
    if not origin:
        return True  # not a browser cross-origin request (curl, server-to-server, same-origin GET)
    origin = origin.rstrip("/")
    return origin == own_origin or origin in settings.origins


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class RateLimiter:
    """A moving-window limit per client address, kept in the storage the URI names."""

    def __init__(self, rate: str, storage_uri: str, namespace: str = "ask") -> None:
        from limits import parse, storage, strategies

        self.namespace = namespace
        self.item = parse(rate)
        self._storage: Any = storage.storage_from_string(storage_uri)
        self._limiter: Any = strategies.MovingWindowRateLimiter(self._storage)

    def healthy(self) -> bool:
        """Whether the storage answers (a Redis server that is down does not)."""
        return bool(self._storage.check())

    def hit(self, key: str) -> Verdict:
        if self._limiter.hit(self.item, self.namespace, key):
            return Verdict(True, 0)
        stats = self._limiter.get_window_stats(self.item, self.namespace, key)
        return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
