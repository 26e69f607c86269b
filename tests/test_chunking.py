"""Passages keep their provenance: source, section and the references the text cites."""

from __future__ import annotations

from pathlib import Path

from magbot.index.chunking import chunk_knowledge, split_sentences
from magbot.index.ingest import load_knowledge


def _chunks(knowledge: Path):  # type: ignore[no-untyped-def]
    return chunk_knowledge(load_knowledge(knowledge), chunk_size=700, chunk_overlap=0)


def test_article_passage_records_the_references_it_cites(knowledge_copy: Path) -> None:
    chunks = _chunks(knowledge_copy)
    regen = next(c for c in chunks if "nerve growth factor" in c.text and c.source_id == "article")
    assert regen.section == "4. Magnesium Supports Nerve Regeneration"
    assert regen.cites == ("ref-8", "ref-9")
    assert "(8,9)" not in regen.text  # the number is moved to the citation, not left in the prose
    nmda = next(c for c in chunks if "NMDA-coupled channels" in c.text)
    assert nmda.cites == ("ref-3",)


def test_citation_covers_the_uncited_sentences_before_it(knowledge_copy: Path) -> None:
    chunks = _chunks(knowledge_copy)
    para = next(c for c in chunks if "NMDA-coupled channels" in c.text)
    supports = {s.text[:40]: s.supports for s in para.sentences}
    assert all(v == ("ref-3",) for v in supports.values())
    intro = next(c for c in chunks if c.section == "Introduction")
    assert all(s.supports == ("article",) for s in intro.sentences)
    # "(1)" printed after a full stop belongs to the sentence before it, not to the next one
    sec6 = next(c for c in chunks if "insulin-sensitivity in those at high risk" in c.text)
    by_start = {s.text.split()[0]: s.supports for s in sec6.sentences}
    assert by_start["In"] == ("ref-1",)
    assert by_start["This"] == ("article",)


def test_study_passages_belong_to_their_study(knowledge_copy: Path) -> None:
    chunks = _chunks(knowledge_copy)
    ref4 = [c for c in chunks if c.source_id == "ref-4"]
    assert ref4 and all(c.cites == () for c in ref4)
    assert any(c.section == "How far it supports the article" for c in ref4)
    assert all(s.supports == ("ref-4",) for c in ref4 for s in c.sentences)
    assert all(len(c.text) <= 700 for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


def test_sentence_splitter_keeps_abbreviations_and_decimals() -> None:
    text = "Veronese et al. pooled 18 trials (SMD -0.40; 95% CI -0.80 to -0.00). Pain fell from 7.5 to 4.7."
    assert split_sentences(text) == [
        "Veronese et al. pooled 18 trials (SMD -0.40; 95% CI -0.80 to -0.00).",
        "Pain fell from 7.5 to 4.7.",
    ]
