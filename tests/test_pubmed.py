"""``magbot add-pubmed`` against a local E-utilities stand-in on loopback (never the real NCBI)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from magbot import Settings
from magbot.admin.pubmed import PubMedClient, PubMedError, add_studies, evidence_level, refresh_cited
from magbot.index.ingest import load_knowledge
from tests.conftest import free_port

DATA = Path(__file__).resolve().parent / "data"
EMPTY = b'<?xml version="1.0" ?><PubmedArticleSet></PubmedArticleSet>'

pytestmark = pytest.mark.slow  # every test here builds an index


class EUtils:
    """Serves efetch XML written for the tests; can fail the first N requests with 503."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.fail_first = 0
        eutils = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                eutils.requests.append(query)
                if eutils.fail_first > 0:
                    eutils.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                ids = query.get("id", [""])[0].split(",")
                if "99000001" in ids:
                    body = (DATA / "efetch-new.xml").read_bytes()
                elif "23384256" in ids:
                    body = (DATA / "efetch-refresh.xml").read_bytes()
                else:
                    body = EMPTY
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/entrez/eutils"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def eutils() -> Iterator[EUtils]:
    server = EUtils()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_add_pubmed_writes_a_study_file_and_updates_the_index(
    eutils: EUtils, knowledge_copy: Path, built_data_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    import shutil

    shutil.copytree(built_data_dir, data)
    env = {
        **os.environ,
        "MAGBOT_DATA_DIR": str(data),
        "MAGBOT_KNOWLEDGE_DIR": str(knowledge_copy),
        "MAGBOT_NCBI_BASE_URL": eutils.url,
        "MAGBOT_NCBI_API_KEY": "test-key",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "magbot.frontends.cli", "add-pubmed", "99000001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "added" in proc.stdout and "files added: studies/pmid-99000001.md" in proc.stdout
    assert "passages: 3 added, 0 updated, 0 removed, 75 unchanged" in proc.stdout  # only the new study embedded
    assert eutils.requests[0]["api_key"] == ["test-key"] and eutils.requests[0]["retmode"] == ["xml"]
    study = load_knowledge(knowledge_copy).get("pmid-99000001")
    assert study.title.startswith("Oral magnesium citrate") and study.authors == ("Testwriter A", "Example BE")
    assert study.evidence_level == "rct" and study.year == 2024 and study.doi == "10.9999/jtn.2024.0001"
    assert study.url == "https://pubmed.ncbi.nlm.nih.gov/99000001/" and study.fetched
    assert "Methods: Sixty adults" in study.body

    ask = subprocess.run(
        [
            sys.executable,
            "-m",
            "magbot.frontends.cli",
            "ask",
            "--json",
            "Does magnesium citrate ease painful diabetic neuropathy?",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert '"id":"pmid-99000001"' in ask.stdout and '"marker":"[pmid-99000001]"' in ask.stdout


def test_unknown_ids_and_retries(eutils: EUtils, knowledge_copy: Path) -> None:
    settings = Settings(knowledge_dir=knowledge_copy, ncbi_base_url=eutils.url)
    eutils.fail_first = 2  # two 503s, then it answers: retried with backoff
    written, unknown = add_studies(settings, ["99000001", "12345"], PubMedClient(settings))
    assert [p.name for p in written] == ["pmid-99000001.md"] and unknown == ["12345"]
    assert len(eutils.requests) == 3
    with pytest.raises(PubMedError, match="not a PubMed ID: abc"):
        add_studies(settings, ["abc"], PubMedClient(settings))


def test_no_network_is_a_clear_error(knowledge_copy: Path) -> None:
    settings = Settings(knowledge_dir=knowledge_copy, ncbi_base_url=f"http://127.0.0.1:{free_port()}/eutils")
    with pytest.raises(PubMedError, match="cannot reach PubMed"):
        add_studies(settings, ["99000001"], PubMedClient(settings))


def test_refresh_replaces_summaries_and_keeps_them_on_failure(eutils: EUtils, knowledge_copy: Path) -> None:
    before = load_knowledge(knowledge_copy)
    settings = Settings(knowledge_dir=knowledge_copy, ncbi_base_url=eutils.url)
    replaced, kept = refresh_cited(settings, PubMedClient(settings))
    assert replaced == ["ref-4", "ref-9"]  # the stand-in server knows these two
    after = load_knowledge(knowledge_copy)
    assert after.get("ref-4").body.startswith("Test abstract standing in")
    assert "PubMed abstract" in (after.get("ref-4").text_source or "")
    assert after.get("ref-1").body == before.get("ref-1").body and "ref-1" in kept  # not returned: kept
    assert after.get("ref-3").body == before.get("ref-3").body  # no PMID: kept

    offline = Settings(knowledge_dir=knowledge_copy, ncbi_base_url=f"http://127.0.0.1:{free_port()}/eutils")
    replaced, kept = refresh_cited(offline, PubMedClient(offline))
    assert replaced == [] and len(kept) == 9
    assert load_knowledge(knowledge_copy).get("ref-4").body == after.get("ref-4").body


def test_evidence_level_from_publication_types() -> None:
    assert evidence_level(("Meta-Analysis", "Journal Article"), ()) == "meta-analysis"
    assert evidence_level(("Journal Article",), ("Animals", "Rats")) == "animal"
    assert evidence_level(("Review",), ("Humans",)) == "review"
    assert evidence_level(("Journal Article",), ("Humans",)) == "other"
