"""magbot: cited answers about magnesium and nerve pain from a small, trusted corpus.

Public API::

    from magbot import Magbot, Settings
    answer = Magbot(Settings()).ask("Does magnesium help nerve pain?")

Heavy modules (the embedding model, Chroma) load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from magbot._errors import ConfigError, IndexError_, KnowledgeError, MagbotError
from magbot._models import Answer, Citation, Turn
from magbot._settings import Settings

if TYPE_CHECKING:
    from magbot.pipeline import Magbot

__all__ = [
    "Answer",
    "Citation",
    "ConfigError",
    "IndexError_",
    "KnowledgeError",
    "Magbot",
    "MagbotError",
    "Settings",
    "Turn",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "Magbot":
        from magbot.pipeline import Magbot

        return Magbot
    raise AttributeError(name)
