"""One-off import of the shared knowledge sources into ``knowledge/``.

Run once by a maintainer (``python tools/import_sources.py ../shared/knowledge-sources``); magbot itself
only ever reads ``knowledge/``. The written files are the source of truth afterwards and are meant to be
read and corrected by hand.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

# Short, plain-language judgements of each study's weight, written for magbot.
EVIDENCE = {
    1: (
        "meta-analysis",
        "Pools 18 placebo-controlled trials, but measured blood sugar and insulin only: no nerve or pain outcome.",
    ),
    2: ("review", "Narrative review with no new data; about diabetes and insulin resistance, not nerve pain."),
    3: ("protocol", "Trial protocol only: it describes a planned study and reports no results."),
    4: ("rct", "One small single-centre trial (80 patients); IV then oral magnesium on top of other pain drugs."),
    5: (
        "cross-sectional",
        "Cross-sectional association in 978 people: a link, not cause and effect; no "
        "magnesium was given and pain was not measured.",
    ),
    6: ("review", "Broad narrative review of magnesium's roles; nothing specific on nerve pain."),
    7: ("review", "Narrative review on nerve regeneration in diabetes; it does not mention magnesium."),
    8: (
        "animal",
        "Animal experiment: an implanted magnesium-alloy wire in rats; no people, no supplements, no pain outcome.",
    ),
    9: ("animal", "Animal experiment: a high-magnesium diet in mice after nerve crush; no human or pain data."),
}

FIELDS = [
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "pmid",
    "pmcid",
    "doi",
    "study_type",
    "key_numbers",
    "supports_article_claim",
    "notes",
]


def _dump_front_matter(meta: dict[str, Any], body: str) -> str:
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{body.strip()}\n"


def import_studies(src: Path, out: Path) -> None:
    studies = yaml.safe_load((src / "references.yaml").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    for study in studies:
        n = int(study["n"])
        level, note = EVIDENCE[n]
        meta: dict[str, Any] = {"id": f"ref-{n}", "kind": "study", "number": n}
        for field in FIELDS:
            value = study.get(field)
            if field == "authors":
                value = [re.sub(r"\s*\(.*\)$", "", a) for a in value]
            meta[field] = value
        meta["aliases"] = []  # names people use for the study ("the back pain trial"); filled in by hand
        meta["evidence_level"] = level
        meta["evidence_note"] = note
        body = "\n\n".join(p.strip().replace("\n", " ") for p in study["summary"].split("\n\n") if p.strip())
        (out / f"ref-{n}.md").write_text(_dump_front_matter(meta, body), encoding="utf-8")


def import_article(src: Path, out: Path) -> None:
    lines = (src / "article.txt").read_text(encoding="utf-8").splitlines()
    title = lines[0].strip()
    blocks: list[str] = []
    for raw in lines[1:]:
        line = raw.strip()
        if not line or line == "Foods rich in magnesium":  # blank, or an image caption
            continue
        if line.startswith("The references below were used"):
            break
        if re.match(r"^\d\. [A-Z]", line):
            blocks.append(f"## {line}")
        elif line.startswith("Magnesium supplementation as well as eating"):
            blocks.append("## In summary")
            blocks.append(line)
        else:
            blocks.append(line)
    blocks.insert(0, "## Introduction")
    meta = {
        "id": "article",
        "kind": "article",
        "title": title,
        "evidence_note": "The consumer article itself; no study is cited for this statement.",
        "note": "Consumer-health article; its numbered citations (n) refer to knowledge/studies/ref-n.md.",
    }
    (out / "article.md").write_text(_dump_front_matter(meta, "\n\n".join(blocks)), encoding="utf-8")


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/knowledge-sources")
    out = Path(__file__).resolve().parent.parent / "knowledge"
    import_article(src, out)
    import_studies(src, out / "studies")


if __name__ == "__main__":
    main()
