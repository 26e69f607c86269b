"""Split sources into passages that keep their provenance (source, section, cited references).

Article sentences are attributed to the studies they cite: a citation such as "(3)" or "(8,9)" covers its
own sentence and the uncited sentences before it in the same paragraph. Article sentences that no
citation covers are evidence for the article itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from magbot._cache import write_cache
from magbot._models import Chunk, Sentence, Source
from magbot.index.ingest import CITE_RE, KnowledgeBase

log = logging.getLogger(__name__)

CHUNKER_VERSION = "3"
# The section holding a study's ``supports_article_claim``: a judgement of the article, not what the study says.
JUDGEMENT_SECTION = "How far it supports the article"
_ABBREVIATIONS = ("et al.", "e.g.", "i.e.", "vs.", "approx.", "Dr.", "No.", "Fig.")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'‘“0-9])")
_CITE_LEAD = re.compile(r"^\(\d+(?:\s*,\s*\d+)*\)\s*")


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations and trailing citations attached."""
    protected = text
    for i, abbr in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbr, f"\x00{i}\x00")
    pieces: list[str] = []
    for piece in _SPLIT.split(protected.strip()):
        for i, abbr in enumerate(_ABBREVIATIONS):
            piece = piece.replace(f"\x00{i}\x00", abbr)
        piece = piece.strip()
        if not piece:
            continue
        lead = _CITE_LEAD.match(piece)
        if pieces and lead:  # "(3)" printed after the full stop belongs to the sentence before
            pieces[-1] = f"{pieces[-1]} {lead.group(0).strip()}"
            piece = piece[lead.end() :].strip()
        if not piece:
            continue
        if pieces and len(piece) < 4:
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def cited_ids(text: str) -> tuple[str, ...]:
    ids: list[str] = []
    for match in CITE_RE.finditer(text):
        for n in match.group(1).split(","):
            ref = f"ref-{int(n)}"
            if ref not in ids:
                ids.append(ref)
    return tuple(ids)


def strip_citations(text: str) -> str:
    return re.sub(r"\s+([.,;])", r"\1", CITE_RE.sub("", text)).strip()


def _attribute(sentences: list[str], fallback: str) -> tuple[Sentence, ...]:
    """Give each sentence the sources it stands for (see module docstring)."""
    out: list[Sentence] = []
    pending: list[str] = []
    for raw in sentences:
        own = cited_ids(raw)
        pending.append(raw)
        if own:
            out.extend(Sentence(strip_citations(s), own) for s in pending)
            pending = []
    out.extend(Sentence(strip_citations(s), (fallback,)) for s in pending)
    return tuple(s for s in out if s.text)


def _sections(body: str) -> Iterable[tuple[str, list[str]]]:
    section, paragraphs = "", list[str]()
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if not block:
            continue
        if block.startswith("#"):
            if paragraphs:
                yield section, paragraphs
            section, paragraphs = block.lstrip("#").strip(), []
        else:
            paragraphs.append(" ".join(block.split()))
    if paragraphs:
        yield section, paragraphs


def _make_chunk(source: Source, section: str, text: str, position: int, fallback: str) -> Chunk:
    # The id depends on the content only, so editing one paragraph leaves the other passages' ids alone.
    digest = hashlib.sha1(f"{source.id}\0{section}\0{text}".encode()).hexdigest()[:16]
    cid = f"{source.id}:{digest}"
    if source.kind != "article":  # only the article uses "(n)" citations; study text is kept as is
        plain = tuple(Sentence(s, (source.id,)) for s in split_sentences(text))
        return Chunk(cid, source.id, section, text, position, (), plain)
    return Chunk(
        id=cid,
        source_id=source.id,
        section=section,
        text=strip_citations(text),
        position=position,
        cites=cited_ids(text),
        sentences=_attribute(split_sentences(text), fallback),
    )


def chunk_source(source: Source, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=[". ", "; ", ", ", " "],
        keep_separator="end",
    )
    sections = list(_sections(source.body))
    if source.kind == "study":
        sections = [(name if name else "Summary", paras) for name, paras in sections]
        if source.supports_article_claim:
            sections.append((JUDGEMENT_SECTION, [source.supports_article_claim]))
    chunks: list[Chunk] = []
    for section, paragraphs in sections:
        for paragraph in paragraphs:
            parts = [paragraph] if len(paragraph) <= chunk_size else splitter.split_text(paragraph)
            for part in parts:
                chunk = _make_chunk(source, section, part.strip(), len(chunks), source.id)
                if any(c.id == chunk.id for c in chunks):  # the same passage twice in one source
                    chunk = replace(chunk, id=f"{chunk.id}:{len(chunks)}")
                chunks.append(chunk)
    return chunks


def chunk_knowledge(
    kb: KnowledgeBase, chunk_size: int, chunk_overlap: int, cache_dir: Path | None = None
) -> list[Chunk]:
    """Every source's passages. With ``cache_dir``, kept there as JSON named by a hash of the knowledge files
    and the chunking settings, so a server starts without the splitter (and LangChain) when nothing changed."""
    key = hashlib.sha256(f"{CHUNKER_VERSION}|{chunk_size}|{chunk_overlap}|{kb.fingerprint}".encode()).hexdigest()
    path = cache_dir / f"chunks-{key[:20]}.json" if cache_dir else None
    if path is not None:
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [_chunk_from(row) for row in rows]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    chunks = [c for s in kb.sources for c in chunk_source(s, chunk_size, chunk_overlap)]
    if path is not None:
        write_cache(path, json.dumps([asdict(c) for c in chunks]), "passages")
    return chunks


def _chunk_from(row: dict[str, Any]) -> Chunk:
    sentences = tuple(Sentence(s["text"], tuple(s["supports"])) for s in row["sentences"])
    return Chunk(
        row["id"], row["source_id"], row["section"], row["text"], row["position"], tuple(row["cites"]), sentences
    )


def index_text(chunk: Chunk, source: Source) -> str:
    """What gets embedded and keyword-indexed: the passage with its context (title, type, section)."""
    if source.kind == "article":
        return f"{chunk.section}. {chunk.text}"
    head = f"{source.title}. {source.author_line} ({source.year}). {source.study_type}. {chunk.section}."
    return f"{head} {chunk.text}"
