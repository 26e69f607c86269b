"""The web chat's functions, called directly (no browser), for each status; and the feedback store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from magbot import Magbot, Settings
from magbot.admin.feedback import FeedbackStore
from magbot.frontends.ui import answer_for_message, respond


def _turn(
    bot: Magbot, message: str, history: list[dict[str, Any]] | None = None, answers: list[dict[str, Any]] | None = None
) -> tuple[list[Any], list[dict[str, Any]], list[str]]:
    frames = list(respond(bot, message, history or [], answers or []))
    history_out, answers_out, _ = frames[-1]
    return history_out, answers_out, [f[0][-1]["content"] for f in frames]


def test_chat_streams_then_shows_cards_per_status(bot: Magbot) -> None:
    _, answers, frames = _turn(bot, "What did the back pain trial find?")
    assert len(frames) > 2  # the text arrives in steps before the final message
    final = frames[-1]
    assert "[4]" in final and 'href="https://pubmed.ncbi.nlm.nih.gov/23384256/"' in final
    assert 'rel="noopener' in final and "Randomised trial" in final and "not medical advice" in final
    assert answers[-1]["status"] == "answered"
    assert "Urgent" in _turn(bot, "I have crushing chest pain")[2][-1]
    assert "Not covered" in _turn(bot, "Can I take magnesium while pregnant?")[2][-1]
    assert "Outside what magbot covers" in _turn(bot, "What is the capital of France?")[2][-1]
    assert "Please check your question" in _turn(bot, "   ")[2][-1]


def test_follow_up_uses_this_sessions_answers(bot: Magbot) -> None:
    history, answers, _ = _turn(bot, "What did the back pain trial find?")
    history, answers, frames = _turn(bot, "How long did it last?", history, answers)
    assert "[4]" in frames[-1] and "6 months" in frames[-1]
    assert answer_for_message(history, answers, 3)["question"] == "How long did it last?"


def test_question_html_never_reaches_the_page(bot: Magbot) -> None:
    _, _, frames = _turn(bot, "<img src=x onerror=alert(1)> magnesium ![x](https://evil.example/a.png)")
    assert all("<img" not in f and "evil.example" not in f for f in frames)


def test_feedback_store_round_trip(tmp_path: Path, bot: Magbot) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    answer = bot.ask("What did the back pain trial find?").model_dump()
    record = store.add("down", answer)
    store.update(record, "wrong citation", "the quote is about something else")
    store.add("up", answer)
    reopened = FeedbackStore(tmp_path / "fb.sqlite3")  # survives a restart
    rows = reopened.rows()
    assert [r["rating"] for r in rows] == ["down", "up"]
    assert rows[0]["reason"] == "wrong citation" and "ref-4" in rows[0]["citations"]
    assert rows[0]["index_version"] == answer["index_version"] and rows[0]["question"] == answer["question"]
    assert "wrong citation" in reopened.export("csv") and '"rating": "down"' in reopened.export("json")


class _BrokenBot:
    """A stand-in whose ask always fails, to check what the user sees when answering breaks."""

    settings = Settings()

    def ask_stream(self, question: object, history: object = ()) -> Any:
        raise RuntimeError("index went away")


def test_failure_is_a_short_message_not_a_traceback(caplog: Any) -> None:
    frames = list(respond(_BrokenBot(), "Does magnesium help?", [], []))  # type: ignore[arg-type]
    shown = frames[-1][0][-1]["content"]
    assert "could not answer just now" in shown and "Traceback" not in shown and "index went away" not in shown
    assert "index went away" in caplog.text  # the detail goes to the log


def test_the_chat_shows_the_message_as_text_and_keeps_a_bounded_history(bot: Magbot) -> None:
    from magbot.frontends.ui import respond

    history: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for _ in range(bot.settings.max_history_turns + 5):
        *_, (history, answers, _box) = respond(bot, "What did the back pain trial find?", history, answers)
    assert len(answers) == bot.settings.max_history_turns
    assert sum(1 for m in history if m["role"] == "assistant") == bot.settings.max_history_turns
    *_, (history, answers, _box) = respond(bot, '<img src=x onerror="alert(1)"> **bold**', history, answers)
    assert history[-2]["content"] == "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt; **bold**</p>"
