"""Load and validate the knowledge folder: ``article.md`` plus ``studies/*.md``.

Each file is Markdown with a YAML front matter block between ``---`` lines. Any problem raises
:class:`KnowledgeError` naming the file and, where known, the field, before anything is indexed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from magbot._errors import KnowledgeError
from magbot._models import Source
from magbot._yaml import safe_load

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
CITE_RE = re.compile(r"\((\d+(?:\s*,\s*\d+)*)\)")


@dataclass(frozen=True)
class KnowledgeBase:
    """All sources, validated, in a stable order (article first, then studies by number/id)."""

    sources: tuple[Source, ...]
    fingerprint: str  # hash of every file's bytes, for index naming
    file_hashes: dict[str, str]  # per file (path relative to the folder): hash of its bytes

    def get(self, source_id: str) -> Source:
        return self.by_id[source_id]

    @property
    def study_count(self) -> int:
        """How many studies the knowledge holds (the article is not one)."""
        return sum(1 for s in self.sources if s.kind == "study")

    @cached_property
    def by_id(self) -> dict[str, Source]:
        """Sources by id, built once (answers look sources up many times per question)."""
        return {s.id: s for s in self.sources}


def _read_file(path: Path, kind: str) -> Source:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(path, f"not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise KnowledgeError(path, f"cannot read ({exc.strerror})") from exc
    match = _FRONT.match(text.replace("\r\n", "\n"))
    if not match:
        raise KnowledgeError(path, "missing front matter: the file must start with a '---' YAML block")
    try:
        meta: Any = safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, f"front matter is not valid YAML ({exc})".replace("\n", " ")) from exc
    if not isinstance(meta, dict):
        raise KnowledgeError(path, "front matter must be a mapping of field: value")
    data = dict(meta)
    if data.get("kind") != kind:
        raise KnowledgeError(path, f"must be '{kind}' for a file in this place", field="kind")
    for key in ("pmid", "volume", "issue", "pages"):
        if isinstance(data.get(key), int):
            data[key] = str(data[key])
    for key in ("authors", "key_numbers", "aliases", "places", "studied_in", "findings", "questions"):
        if isinstance(data.get(key), list):
            data[key] = tuple(data[key])
    data["body"] = match.group(2).strip()
    try:
        source = Source.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise KnowledgeError(path, err["msg"], field=field) from exc
    if source.kind == "study":
        for required in ("authors", "year", "journal", "study_type", "evidence_note"):
            if not getattr(source, required):
                raise KnowledgeError(path, "is required for a study", field=required)
        if not source.url:
            raise KnowledgeError(path, "a study needs at least one of pmid, pmcid or doi", field="pmid")
        if source.id.startswith("ref-") and source.id != f"ref-{source.number}":
            raise KnowledgeError(path, f"id {source.id} does not match number {source.number}", field="id")
        _check_findings(source, path)
    return source


_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def numbers_in(text: str) -> set[str]:
    """The numbers written in a text ("7.5", "80", "1,000"), as written."""
    return {m.group(0).rstrip(".,") for m in _NUMBER.finditer(text)}


def _check_findings(source: Source, path: Path) -> None:
    """Every number in a finding must be written in the study's own text (body or key numbers)."""
    own = numbers_in(source.body + "\n" + "\n".join(source.key_numbers) + "\n" + source.title)
    for i, finding in enumerate(source.findings):
        missing = sorted(numbers_in(finding.text) - own)
        if missing:
            raise KnowledgeError(
                path, f"number(s) {', '.join(missing)} do not appear in the study's text", field=f"findings.{i}.text"
            )


def load_knowledge(folder: Path) -> KnowledgeBase:
    """Read and validate every knowledge file under ``folder``."""
    if not folder.is_dir():
        raise KnowledgeError(folder, "knowledge folder not found")
    article_path = folder / "article.md"
    if not article_path.is_file():
        raise KnowledgeError(article_path, "missing: the knowledge folder needs article.md")
    study_paths = sorted((folder / "studies").glob("*.md"))
    digest = hashlib.sha256()
    file_hashes: dict[str, str] = {}
    sources: list[Source] = []
    for path in [article_path, *study_paths]:
        source = _read_file(path, "article" if path == article_path else "study")
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        file_hashes[path.relative_to(folder).as_posix()] = hashlib.sha256(raw).hexdigest()[:20]
        sources.append(source)
    seen: dict[str, Path] = {}
    for source, path in zip(sources, [article_path, *study_paths], strict=True):
        if source.id in seen:
            raise KnowledgeError(path, f"duplicate id '{source.id}' (also in {seen[source.id].name})", "id")
        seen[source.id] = path
    numbers = {s.number for s in sources if s.number is not None}
    for match in CITE_RE.finditer(sources[0].body):
        for n in match.group(1).split(","):
            if int(n) not in numbers:
                raise KnowledgeError(article_path, f"cites ({n.strip()}) but no study has number {n.strip()}")
    studies = sorted(sources[1:], key=lambda s: (s.number is None, s.number or 0, s.id))
    return KnowledgeBase(sources=(sources[0], *studies), fingerprint=digest.hexdigest(), file_hashes=file_hashes)
