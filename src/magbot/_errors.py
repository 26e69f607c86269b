"""magbot's exceptions.

    MagbotError                  base of everything magbot raises on purpose
    ├── KnowledgeError           a knowledge file is missing, malformed or incomplete (names file and field)
    ├── IndexError_              the vector index cannot be opened, read or written
    └── ConfigError              a setting has an unusable value

The CLI turns these into one-line messages; everything else propagates as a bug.
"""

from __future__ import annotations

from pathlib import Path


class MagbotError(Exception):
    """Base class for errors magbot reports to the user."""


class KnowledgeError(MagbotError):
    """A knowledge file cannot be used. ``path`` and ``field`` say where."""

    def __init__(self, path: Path | str, message: str, field: str | None = None) -> None:
        self.path = Path(path)
        self.field = field
        where = f"{self.path}" + (f": field '{field}'" if field else "")
        super().__init__(f"{where}: {message}")


class IndexError_(MagbotError):
    """The vector index is unreadable or cannot be built."""


class ConfigError(MagbotError):
    """A setting has a value magbot cannot work with."""
