"""Feedback on answers (thumbs up/down, reason, comment), kept in SQLite (WAL) in the data directory.

What is stored when someone rates an answer: the rating, the optional reason and comment, the question, the
answer text, its status, its citations and the index version; no name, address or cookie. Rows older than
``MAGBOT_FEEDBACK_RETENTION_DAYS`` are deleted automatically; ``magbot feedback delete`` removes rows by id or
date. CSV exports neutralise spreadsheet formulas (OWASP's CSV-injection rule).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from magbot._errors import MagbotError

REASONS = ("wrong citation", "not supported by the study", "unclear", "unsafe")


def stored_notice(retention_days: int) -> str:
    """The sentence every front end shows next to its rating buttons: what rating an answer stores."""
    if retention_days:
        return STORED_NOTICE.format(days=retention_days)
    return STORED_NOTICE.split(";")[0] + "."  # kept until an operator deletes it


_COLUMNS = (
    "id",
    "created_at",
    "rating",
    "reason",
    "comment",
    "question",
    "answer",
    "status",
    "citations",
    "index_version",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    reason TEXT,
    comment TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    status TEXT,
    citations TEXT NOT NULL,
    index_version TEXT
)
"""


STORED_NOTICE = (
    "Rating an answer stores your rating, reason and comment with the question and answer (no name, no "
    "address) to improve magbot; it is deleted after {days} days."
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: Any) -> Any:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class FeedbackStore:
    """Feedback records. Each call opens its own connection, so threads never share one."""

    def __init__(self, path: Path, retention_days: int = 0) -> None:
        self.path = path
        self.retention_days = retention_days
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
            self.purge()
        except (OSError, sqlite3.Error) as exc:
            raise MagbotError(f"cannot open the feedback store at {path}: {exc}") from exc

    def purge(self) -> int:
        """Delete rows older than the retention period (none when it is 0); the number deleted."""
        if not self.retention_days:
            return 0
        cutoff = (datetime.now(UTC) - timedelta(days=self.retention_days)).isoformat(timespec="seconds")
        return self.delete(before=cutoff)

    def delete(self, ids: list[int] | None = None, before: str | None = None) -> int:
        """Delete rows by id and/or created before an ISO date or time; the number deleted."""
        if not ids and not before:
            raise ValueError("say which rows: ids, a date, or both")
        deleted = 0
        with self._connect() as db:
            if ids:
                marks = ",".join("?" * len(ids))
                deleted += db.execute(f"DELETE FROM feedback WHERE id IN ({marks})", ids).rowcount
            if before:
                deleted += db.execute("DELETE FROM feedback WHERE created_at < ?", (before,)).rowcount
        return deleted

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(
        self,
        rating: Literal["up", "down"],
        answer: dict[str, Any],
        reason: str | None = None,
        comment: str | None = None,
    ) -> int:
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"),
            rating,
            reason,
            (comment or "").strip()[:2000] or None,
            str(answer.get("question", ""))[:5000],
            str(answer.get("answer", ""))[:20000],
            answer.get("status"),
            json.dumps(
                [
                    {"marker": c.get("marker"), "id": c.get("id"), "url": c.get("url")}
                    for c in answer.get("citations", [])
                ]
            ),
            answer.get("index_version"),
        )
        self.purge()
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created_at, rating, reason, comment, question, answer, status, citations,"
                " index_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

    def update(self, record_id: int, reason: str | None, comment: str | None) -> None:
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        with self._connect() as db:
            db.execute(
                "UPDATE feedback SET reason = ?, comment = ? WHERE id = ?",
                (reason, (comment or "").strip()[:2000] or None, record_id),
            )

    def rows(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY id")]

    def export(self, fmt: Literal["csv", "json"]) -> str:
        rows = self.rows()
        if fmt == "json":
            return json.dumps(rows, ensure_ascii=False, indent=2)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _neutral(v) for k, v in row.items()} for row in rows)
        return buffer.getvalue()
