"""The knowledge loader: valid files load; broken ones fail with the file and field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from magbot import KnowledgeError
from magbot.index.ingest import load_knowledge


def test_real_knowledge_loads_article_and_nine_studies(knowledge_copy: Path) -> None:
    kb = load_knowledge(knowledge_copy)
    assert [s.id for s in kb.sources] == ["article"] + [f"ref-{n}" for n in range(1, 10)]
    ref4 = kb.get("ref-4")
    assert ref4.url == "https://pubmed.ncbi.nlm.nih.gov/23384256/"
    assert kb.get("ref-3").url == "https://pmc.ncbi.nlm.nih.gov/articles/PMC4691781/"  # no pmid: PMC link
    assert ref4.author_line == "Yousef AA, Al-deeb AE"
    assert kb.get("ref-8").evidence_level == "animal"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("studies/ref-4.md", "journal: Anaesthesia\n", "", "field 'journal'"),
        ("studies/ref-4.md", "pmid: '23384256'", "pmid: 'PM-23384256'", "field 'pmid'"),
        ("studies/ref-4.md", "year: 2013", "year: last year", "field 'year'"),
        ("studies/ref-4.md", "id: ref-4\n", "id: ref-5\n", "field 'id'"),
        ("studies/ref-4.md", "title: A double", "title: [A double", "not valid YAML"),
        ("studies/ref-4.md", "---\nid: ref-4", "id: ref-4", "missing front matter"),
        ("studies/ref-4.md", "evidence_level: rct", "evidence_level: anecdote", "field 'evidence_level'"),
        ("article.md", "kind: article", "kind: study", "field 'kind'"),
    ],
)
def test_broken_file_names_file_and_field(knowledge_copy: Path, file: str, old: str, new: str, expected: str) -> None:
    _edit(knowledge_copy / file, old, new)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge_copy)
    message = str(info.value)
    assert Path(file).name in message
    assert expected in message


def test_article_citing_a_missing_study_is_rejected(knowledge_copy: Path) -> None:
    (knowledge_copy / "studies" / "ref-9.md").unlink()
    with pytest.raises(KnowledgeError, match=r"article\.md: cites \(9\) but no study has number 9"):
        load_knowledge(knowledge_copy)


def test_non_utf8_and_missing_article(knowledge_copy: Path) -> None:
    (knowledge_copy / "studies" / "ref-2.md").write_bytes(b"---\nid: ref-2\n\xff\xfe\x00---\n")
    with pytest.raises(KnowledgeError, match=r"ref-2\.md: not UTF-8"):
        load_knowledge(knowledge_copy)
    (knowledge_copy / "article.md").unlink()
    with pytest.raises(KnowledgeError, match=r"article\.md: missing"):
        load_knowledge(knowledge_copy)


def test_duplicate_id_is_rejected(knowledge_copy: Path) -> None:
    src = knowledge_copy / "studies" / "ref-4.md"
    (knowledge_copy / "studies" / "ref-4-copy.md").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="duplicate id 'ref-4'"):
        load_knowledge(knowledge_copy)
