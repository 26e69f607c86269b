"""Verification of a generated answer against the passages its markers cite.

Per sentence: markers that name no retrieved passage are removed; a sentence left without a valid marker
is dropped; every number in it must appear in a cited passage; and it must be semantically close to at
least one sentence of a cited passage. Citations are then rebuilt from the markers that remain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from magbot.index.chunking import split_sentences
from magbot.index.embed import Embedder
from magbot.stages.generate import Context

MARKER = re.compile(r"\[(\d+|A|pmid-\d+)\]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_NOISE = re.compile(r"<<<|>>>|[*_`#>]|!\[[^\]]*\]\([^)]*\)|\[([^\]]+)\]\((?:[^)]*)\)|</?[A-Za-z!][^<>]*>")


@dataclass(frozen=True)
class Checked:
    text: str  # the kept sentences, each followed by its markers
    kept: int
    dropped: int
    cited: tuple[str, ...]  # markers in order of first appearance
    reasons: tuple[str, ...] = field(default=())
    scores: tuple[float, ...] = field(default=())  # best passage similarity of each sentence that got that far


def _clean(text: str) -> str:
    """Strip Markdown, links, images and HTML the model may have written, and the prompt's own <<< >>>
    delimiters (a small model sometimes wraps its reply in them; read as a tag, they swallowed it whole)."""
    return " ".join(_NOISE.sub(lambda m: m.group(1) or "", text).split())


def verify(
    reply: str, contexts: Sequence[Context], vectors: dict[str, np.ndarray], embedder: Embedder, threshold: float
) -> Checked:
    by_marker: dict[str, list[Context]] = {}
    for c in contexts:
        for m in MARKER.findall(c.marker):
            by_marker.setdefault(f"[{m}]", []).append(c)
    sentences = [s for s in split_sentences(_clean(reply)) if s.strip()]
    bodies = [MARKER.sub("", s).strip(" .") for s in sentences]
    vecs = embedder.embed([b or "-" for b in bodies]) if sentences else np.zeros((0, 384), dtype=np.float32)
    kept: list[str] = []
    reasons: list[str] = []
    order: list[str] = []
    scores: list[float] = []
    for sentence, body, vec in zip(sentences, bodies, vecs, strict=True):
        markers = [f"[{m}]" for m in MARKER.findall(sentence)]
        valid = list(dict.fromkeys(m for m in markers if m in by_marker))
        if not body:
            continue
        if not valid:
            reasons.append("no retrieved passage cited" if not markers else "cited a passage that was not retrieved")
            continue
        cited = [c for m in valid for c in by_marker[m]]
        cited_text = " ".join(c.text for c in cited)
        numbers = [n for n in _NUMBER.findall(body)]
        if any(n not in cited_text for n in numbers):
            reasons.append("a number not in the cited passage")
            continue
        keys = [k for c in cited for k in c.sentence_keys if k in vectors]
        best = max((float(np.dot(vec, vectors[k])) for k in keys), default=-1.0)
        scores.append(round(best, 4))
        if best < threshold:
            reasons.append("not close enough to the cited passage")
            continue
        end = "" if body.endswith(("?", "!")) else "."
        kept.append(f"{body}{end} {''.join(valid)}")
        order.extend(m for m in valid if m not in order)
    return Checked(" ".join(kept), len(kept), len(sentences) - len(kept), tuple(order), tuple(reasons), tuple(scores))
