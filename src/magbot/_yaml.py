"""YAML reading with libyaml's C parser when PyYAML was built with it (several times faster to start)."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_load"]

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """Like ``yaml.safe_load``: plain data only, never objects."""
    return yaml.load(text, Loader=_LOADER)
