"""Studies from PubMed: ``magbot add-pubmed PMID ...`` and ``--refresh`` via NCBI E-utilities (efetch, XML).

Requests are spaced to NCBI's limits (3 per second, 10 with an API key) and retried with backoff on
network errors, 429 and 5xx. The XML is parsed with defusedxml, since it comes from outside.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from magbot._errors import MagbotError
from magbot._models import Source
from magbot._settings import Settings
from magbot._yaml import safe_load

log = logging.getLogger(__name__)


class PubMedError(MagbotError):
    """PubMed could not be reached, or did not know an ID."""


@dataclass(frozen=True)
class Record:
    pmid: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    journal: str | None
    year: int | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    pmcid: str | None
    publication_types: tuple[str, ...]
    mesh: tuple[str, ...] = field(default=())


def evidence_level(types: tuple[str, ...], mesh: tuple[str, ...]) -> str:
    lowered = {t.lower() for t in types}
    if "meta-analysis" in lowered or "systematic review" in lowered:
        return "meta-analysis"
    if "clinical trial protocol" in lowered:
        return "protocol"
    if "randomized controlled trial" in lowered:
        return "rct"
    if "Animals" in mesh and "Humans" not in mesh:
        return "animal"
    if "review" in lowered:
        return "review"
    if "observational study" in lowered:
        return "cross-sectional" if any("cross-sectional" in m.lower() for m in mesh) else "other"
    return "other"


_NOTES = {
    "meta-analysis": "Systematic review or meta-analysis (from PubMed's publication types); not yet reviewed by hand.",
    "rct": "Randomised controlled trial (from PubMed's publication types); not yet reviewed by hand.",
    "protocol": "Trial protocol: it describes a planned study and reports no results.",
    "review": "Review article (from PubMed's publication types); it presents no new data.",
    "cross-sectional": "Cross-sectional study: it shows an association, not cause and effect.",
    "animal": "Animal study (PubMed indexes it with animals, not humans); no human data.",
    "other": "Study type not classified; added from PubMed and not yet reviewed by hand.",
}


_RESULT_BY_LEVEL = {"protocol": "no_results", "cross-sectional": "association", "review": "background"}


def population(record: Record, level: str) -> str:
    """Who was studied, from PubMed's MeSH check tags (Humans / Animals) and the study type."""
    if level in ("protocol", "review"):
        return "none"
    if "Humans" in record.mesh:
        return "humans"
    return "animals" if "Animals" in record.mesh or level == "animal" else "humans"


def abstract_findings(record: Record, level: str) -> list[dict[str, str]]:
    """Findings from the abstract: its results and conclusion sections (or its last two sentences)."""
    from magbot.index.chunking import split_sentences

    wanted = ("results:", "findings:", "conclusion:", "conclusions:")
    parts = [p for p in record.abstract.split("\n\n") if p.lower().startswith(wanted)]
    chosen = [p.split(":", 1)[1].strip() for p in parts] if parts else split_sentences(record.abstract)[-2:]
    who = population(record, level)
    # what was measured, as the title puts it (its main clause, before any subtitle)
    title = record.title.split(":")[0].strip() or "the abstract's outcomes"
    outcome = title[0].lower() + title[1:] if title[:2] != title[:2].upper() else title
    out = []
    for text in chosen[-2:]:
        text = " ".join(text.split())
        if len(text) < 20:
            continue
        clipped = text if len(text) <= 600 else text[:597].rsplit(" ", 1)[0] + "…"
        first = split_sentences(clipped)[0].rstrip(".")
        short = first[0].lower() + first[1:] if first[:2] != first[:2].upper() else first
        out.append(
            {
                "text": clipped,
                "population": who,
                "outcome": outcome[:120],
                "result": _RESULT_BY_LEVEL.get(level, "background"),
                "short": f"that {short}"[:240],
            }
        )
    return out


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def parse_efetch(xml: bytes) -> list[Record]:
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(xml)
    except Exception as exc:
        raise PubMedError(f"PubMed sent a reply that is not valid XML ({type(exc).__name__})") from exc
    records = []
    for art in root.iter("PubmedArticle"):
        cit = art.find("MedlineCitation")
        if cit is None:
            continue
        article = cit.find("Article")
        pmid = _text(cit.find("PMID"))
        if article is None or not pmid:
            continue
        parts = []
        for block in article.findall("Abstract/AbstractText"):
            label = block.get("Label")
            parts.append(f"{label.capitalize()}: {_text(block)}" if label else _text(block))
        authors = []
        for a in article.findall("AuthorList/Author"):
            if a.find("CollectiveName") is not None:
                authors.append(_text(a.find("CollectiveName")))
            elif a.find("LastName") is not None:
                authors.append(f"{_text(a.find('LastName'))} {_text(a.find('Initials'))}".strip())
        issue = article.find("Journal/JournalIssue")
        year_text = _text(issue.find("PubDate/Year")) if issue is not None else ""
        if not year_text and issue is not None:
            year_text = _text(issue.find("PubDate/MedlineDate"))[:4]
        ids = {i.get("IdType"): _text(i) for i in art.findall("PubmedData/ArticleIdList/ArticleId")}
        doi = ids.get("doi") or next(
            (_text(e) for e in article.findall("ELocationID") if e.get("EIdType") == "doi"), None
        )
        records.append(
            Record(
                pmid=pmid,
                title=_text(article.find("ArticleTitle")).rstrip("."),
                abstract="\n\n".join(parts),
                authors=tuple(authors),
                journal=_text(article.find("Journal/Title")) or None,
                year=int(year_text) if year_text.isdigit() else None,
                volume=_text(issue.find("Volume")) or None if issue is not None else None,
                issue=_text(issue.find("Issue")) or None if issue is not None else None,
                pages=_text(article.find("Pagination/MedlinePgn")) or None,
                doi=doi or None,
                pmcid=ids.get("pmc") or None,
                publication_types=tuple(_text(t) for t in article.findall("PublicationTypeList/PublicationType")),
                mesh=tuple(_text(m) for m in cit.findall("MeshHeadingList/MeshHeading/DescriptorName")),
            )
        )
    return records


class PubMedClient:
    """efetch with NCBI's rate limits and retries. ``transport`` is the test seam (httpx)."""

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        import httpx

        self.base = settings.ncbi_base_url.rstrip("/")
        self.key = settings.ncbi_api_key.get_secret_value() if settings.ncbi_api_key else None
        self.interval = 0.1 if self.key else 0.34
        self._last = 0.0
        self._http = httpx.Client(timeout=20, transport=transport, headers={"User-Agent": "magbot"})

    def fetch(self, pmids: list[str]) -> list[Record]:
        import httpx
        from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

        def retriable(exc: BaseException) -> bool:
            if isinstance(exc, httpx.HTTPStatusError):
                return exc.response.status_code == 429 or exc.response.status_code >= 500
            return isinstance(exc, httpx.TransportError)

        @retry(
            retry=retry_if_exception(retriable),
            stop=stop_after_attempt(4),
            wait=wait_exponential(multiplier=0.5, max=8),
            reraise=True,
        )
        def get() -> bytes:
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()
            params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"}
            if self.key:
                params["api_key"] = self.key
            resp = self._http.get(f"{self.base}/efetch.fcgi", params=params)
            resp.raise_for_status()
            return bytes(resp.content)

        try:
            return parse_efetch(get())
        except httpx.HTTPStatusError as exc:
            raise PubMedError(f"PubMed answered {exc.response.status_code} for {', '.join(pmids)}") from exc
        except httpx.TransportError as exc:
            raise PubMedError(f"cannot reach PubMed at {self.base} ({type(exc).__name__}); check the network") from exc


def study_file(record: Record, today: date) -> str:
    level = evidence_level(record.publication_types, record.mesh)
    meta = {
        "id": f"pmid-{record.pmid}",
        "kind": "study",
        "number": None,
        "authors": list(record.authors),
        "title": record.title,
        "journal": record.journal,
        "year": record.year,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "pmid": record.pmid,
        "pmcid": record.pmcid,
        "doi": record.doi,
        "study_type": "; ".join(record.publication_types) or "Not given",
        "aliases": [],
        "evidence_level": level,
        "evidence_note": _NOTES[level],
        "population": population(record, level),
        "findings": abstract_findings(record, level),
        "fetched": today.isoformat(),
        "text_source": f"PubMed abstract, fetched {today.isoformat()}",
    }
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{record.abstract.strip()}\n"


def add_studies(
    settings: Settings, pmids: list[str], client: PubMedClient, today: date | None = None
) -> tuple[list[Path], list[str]]:
    """Write one knowledge file per found PMID; return the files written and the IDs PubMed did not know."""
    bad = [p for p in pmids if not re.fullmatch(r"\d{1,9}", p)]
    if bad:
        raise PubMedError(f"not a PubMed ID: {', '.join(bad)} (use the number, e.g. 23384256)")
    records = {r.pmid: r for r in client.fetch(pmids)}
    folder = settings.knowledge_dir / "studies"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for pmid in pmids:
        record = records.get(pmid)
        if record is None or not record.abstract:
            continue
        path = folder / f"pmid-{pmid}.md"
        path.write_text(study_file(record, today or date.today()), encoding="utf-8")
        written.append(path)
    unknown = [p for p in pmids if p not in records or not records[p].abstract]
    return written, unknown


def _findings_for(source: Source, record: Record) -> list[dict[str, Any]]:
    """The hand-written findings whose numbers the abstract still has; the abstract's own if none is left."""
    from magbot.index.ingest import numbers_in

    own = numbers_in(record.abstract + "\n" + "\n".join(source.key_numbers) + "\n" + source.title)
    kept = [f.model_dump() for f in source.findings if numbers_in(f.text) <= own]
    if any(f["result"] != "limits" for f in kept):
        return kept
    return kept + abstract_findings(record, source.evidence_level)


def refresh_cited(settings: Settings, client: PubMedClient, today: date | None = None) -> tuple[list[str], list[str]]:
    """Replace the cited studies' summaries with their PubMed abstracts; keep a summary whenever that fails."""
    from magbot.index.ingest import load_knowledge

    kb = load_knowledge(settings.knowledge_dir)
    cited = [s for s in kb.sources if s.id.startswith("ref-")]
    with_pmid = [s for s in cited if s.pmid]
    replaced: list[str] = []
    try:
        records = {r.pmid: r for r in client.fetch([s.pmid for s in with_pmid if s.pmid])}
    except PubMedError as exc:
        log.warning("refresh failed, summaries kept: %s", exc)
        records = {}
    stamp = (today or date.today()).isoformat()
    for source in with_pmid:
        record = records.get(source.pmid or "")
        if record is None or not record.abstract:
            continue
        path = settings.knowledge_dir / "studies" / f"{source.id}.md"
        text = path.read_text(encoding="utf-8")
        end = text.index("\n---", 3)
        head = safe_load(text[4:end])
        head["text_source"] = f"PubMed abstract, fetched {stamp} (replaced the hand-written summary)"
        head["findings"] = _findings_for(source, record)
        head["fetched"] = stamp
        body = yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(f"---\n{body}---\n\n{record.abstract.strip()}\n", encoding="utf-8")
        replaced.append(source.id)
    kept = [s.id for s in cited if s.id not in replaced]
    return replaced, kept
