"""The ``magbot`` command line: ingest, ask, eval, serve.

Domain errors become one-line messages on standard error here and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError

from magbot._errors import ConfigError, MagbotError
from magbot._models import Answer, Turn
from magbot._settings import Settings
from magbot.stages.safety import DISCLAIMER

if TYPE_CHECKING:
    from magbot.pipeline import Magbot

log = logging.getLogger("magbot")


def _bot(settings: Settings) -> Magbot:
    from magbot.pipeline import Magbot

    return Magbot(settings)


def _open(bot: Magbot) -> None:
    started = time.perf_counter()

    def announce() -> None:
        print("magbot: no index yet, building it first (this happens once)...", file=sys.stderr, flush=True)

    report = bot.open(on_build=announce)
    if report is not None:
        print(
            f"magbot: index built ({report.chunks} passages, {time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
            flush=True,
        )


def format_answer(answer: Answer) -> str:
    """The answer as a person reads it in a terminal (see ``present.as_text``)."""
    from magbot.frontends.present import as_text

    return as_text(answer)


def _parse_request(line: str) -> tuple[object, list[Turn], str | None]:
    """A batch line: plain text, or a JSON object with question and optional history."""
    if not line.lstrip().startswith("{"):
        return line.rstrip("\n"), [], None
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        history = [Turn.model_validate(t) for t in data.get("history") or []]
        return data.get("question", ""), history, None
    except (ValueError, ValidationError) as exc:
        problem = 'The request line is not valid JSON of the form {"question": "...", "history": [...]}'
        return "", [], f"{problem} ({type(exc).__name__})."


def _ask_stream(bot: Magbot, lines: Iterable[str], out: TextIO, as_json: bool) -> int:
    """Answer one request per line; the number answered."""
    answered = 0
    for line in lines:
        if not line.strip() and not as_json:
            continue
        question, history, problem = _parse_request(line)
        if problem:
            answer = Answer(question="", status="invalid", answer=problem, disclaimer=DISCLAIMER, mode="none")
        else:
            answer = bot.ask(question, history)
        out.write((answer.model_dump_json() if as_json else format_answer(answer) + "\n") + "\n")
        out.flush()
        answered += 1
    return answered


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    if "embed_threads" not in settings.model_fields_set:  # building is bulk work: every core helps
        settings = settings.model_copy(update={"embed_threads": 0})
    bot = _bot(settings)
    report = bot.ingest(progress=sys.stderr.isatty())
    if report.built:
        print(f"index {report.version}: synced in {report.seconds:.2f} s")
        print(
            f"passages: {report.added} added, {report.updated} updated, {report.removed} removed, "
            f"{report.chunks - report.added - report.updated} unchanged"
        )
        for label, files in (
            ("added", report.files_added),
            ("updated", report.files_updated),
            ("removed", report.files_removed),
        ):
            if files:
                print(f"files {label}: {', '.join(files)}")
    else:
        print(f"index {report.version}: up to date, nothing to embed ({report.seconds:.2f} s)")
    print(f"sources: {report.sources}  passages: {report.chunks}  sentences: {report.sentences}")
    print(f"location: {settings.chroma_url or settings.index_dir}")
    return 0


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    bot = _bot(settings)
    _open(bot)
    if args.question:
        answer = bot.ask(" ".join(args.question))
        print(answer.model_dump_json() if args.json else format_answer(answer), flush=True)
    elif not _ask_stream(bot, sys.stdin, sys.stdout, args.json):
        print(
            'magbot: error: no question: give one (magbot ask "...") or one per line on standard input', file=sys.stderr
        )
        return 2
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from magbot.admin.evaluate import SPLITS, load_items, run_eval

    if args.set:
        sets = {Path(args.set).stem: Path(args.set)}
    else:
        sets = {name: path for name, path in SPLITS.items() if args.split in (name, "all")}
    extractive_settings = settings.model_copy(update={"llm_base_url": None})
    bot = _bot(extractive_settings)
    _open(bot)
    llm_bot = None
    if args.llm:
        if not settings.llm_base_url:
            raise ConfigError("--llm needs MAGBOT_LLM_BASE_URL (and MAGBOT_LLM_MODEL) to point at a model")
        from magbot.pipeline import Magbot

        llm_bot = Magbot(settings, embedder=bot.embedder)
    for name, path in sets.items():
        items = load_items(path)
        print(f"{name} split ({path.name}), extractive answers")
        print(run_eval(bot, items).table(verbose=args.verbose))
        if llm_bot is not None:
            report = run_eval(llm_bot, items)
            print(f"\n{name} split, LLM answers ({settings.llm_model} at {settings.llm_base_url})")
            print(report.table(verbose=args.verbose))
            print(report.llm_table(settings.llm_support_threshold))
        print()
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from magbot.frontends.server import serve

    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    from magbot.admin.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_path, settings.feedback_retention_days)
    if args.action == "delete":
        if not args.id and not args.before:
            raise ConfigError("say which feedback to delete: --id N (repeatable) and/or --before YYYY-MM-DD")
        deleted = store.delete(ids=args.id or None, before=args.before)
        print(f"deleted {deleted} feedback row{'s' if deleted != 1 else ''}")
        return 0
    text = store.export(args.format)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_add_pubmed(settings: Settings, args: argparse.Namespace) -> int:
    from magbot.admin.pubmed import PubMedClient, add_studies, refresh_cited

    client = PubMedClient(settings)
    status = 0
    if args.refresh:
        replaced, kept = refresh_cited(settings, client)
        print(f"abstracts fetched: {', '.join(replaced) or 'none'}")
        print(f"summaries kept: {', '.join(kept) or 'none'}")
    if args.pmids:
        written, unknown = add_studies(settings, args.pmids, client)
        for path in written:
            print(f"added {path}")
        if unknown:
            print(f"magbot: error: PubMed has no record with an abstract for: {', '.join(unknown)}", file=sys.stderr)
            status = 1
    if not args.refresh and not args.pmids:
        print("magbot: error: give PubMed IDs, or --refresh", file=sys.stderr)
        return 2
    cmd_ingest(settings, args)
    return status


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from magbot.admin.doctor import report, run_checks

    findings = run_checks(settings)
    print(report(findings))
    return 0 if all(f.ok for f in findings) else 1


def cmd_copy_knowledge(settings: Settings, args: argparse.Namespace) -> int:
    """Copy the knowledge folder magbot answers from into a folder of your own, to edit it there."""
    import shutil
    from pathlib import Path

    from magbot._errors import ConfigError

    target = Path(args.folder).expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"{target} is not empty; give a new or empty folder")
    shutil.copytree(settings.knowledge_dir, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    print(f"copied {settings.knowledge_dir} to {target}")
    print(f"to answer from it: export MAGBOT_KNOWLEDGE_DIR={target}")
    return 0


def _iso_date(value: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-01-31") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="magbot", description="Cited answers about magnesium and nerve pain.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest", help="build the index from the knowledge folder (no work if up to date)")
    ask = sub.add_parser("ask", help="answer a question (or one per line of standard input)")
    ask.add_argument("question", nargs="*", help="the question; omit to read standard input")
    ask.add_argument("--json", action="store_true", help="print the answer object as one line of JSON")
    ev = sub.add_parser("eval", help="score magbot on the evaluation question set")
    ev.add_argument("--set", help="a question set YAML file instead of the splits in eval/")
    ev.add_argument("--split", choices=["dev", "test", "all"], default="all", help="which split (default: both)")
    ev.add_argument("--verbose", action="store_true", help="list every missed question")
    ev.add_argument("--llm", action="store_true", help="also score generated answers (MAGBOT_LLM_* settings)")
    serve = sub.add_parser("serve", help="run the web chat")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    pm = sub.add_parser("add-pubmed", help="add studies by PubMed ID (NCBI E-utilities), then update the index")
    pm.add_argument("pmids", nargs="*", help="PubMed IDs, e.g. 23384256")
    pm.add_argument("--refresh", action="store_true", help="replace the cited studies' summaries with abstracts")
    sub.add_parser("doctor", help="check model, index, data dir, LLM endpoint and settings (offline)")
    ck = sub.add_parser("copy-knowledge", help="copy the knowledge folder into a folder of your own, to edit it")
    ck.add_argument("folder", help="a new or empty folder")
    fb = sub.add_parser("feedback", help="work with feedback given in the web chat")
    fb_sub = fb.add_subparsers(dest="action", required=True)
    export = fb_sub.add_parser("export", help="write all feedback as CSV or JSON")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    delete = fb_sub.add_parser("delete", help="delete feedback rows by id or by date")
    delete.add_argument("--id", type=int, action="append", help="a row id (from export); repeat for more")
    delete.add_argument("--before", type=_iso_date, help="delete rows created before this date (YYYY-MM-DD)")
    return parser


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "serve": cmd_serve,
    "feedback": cmd_feedback,
    "doctor": cmd_doctor,
    "add-pubmed": cmd_add_pubmed,
    "copy-knowledge": cmd_copy_knowledge,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        print(f"magbot: error: setting MAGBOT_{str(err['loc'][0]).upper()}: {err['msg']}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level or ("INFO" if args.command == "serve" else "WARNING"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return COMMANDS[args.command](settings, args)
    except MagbotError as exc:
        print(f"magbot: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("magbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
