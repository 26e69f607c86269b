"""The web chat's function, called directly (no browser), for each status."""

from __future__ import annotations

from magbot import Magbot
from magbot.ui import history_to_turns, make_chat_fn


def test_chat_function_per_status(bot: Magbot) -> None:
    chat = make_chat_fn(bot)
    answered = chat("What did the back pain trial find?", [])
    assert "[4]" in answered and "https://pubmed.ncbi.nlm.nih.gov/23384256/" in answered
    assert "not medical advice" in answered
    assert "Urgent" in chat("I have crushing chest pain", [])
    assert "Not covered" in chat("Can I take magnesium while pregnant?", [])
    assert "Outside what magbot covers" in chat("What is the capital of France?", [])
    assert "Please check your question" in chat("   ", [])


def test_chat_follow_up_uses_gradio_history(bot: Magbot) -> None:
    chat = make_chat_fn(bot)
    history = [
        {"role": "user", "content": "What did the back pain trial find?"},
        {"role": "assistant", "content": [{"type": "text", "text": chat("What did the back pain trial find?", [])}]},
    ]
    assert [t.role for t in history_to_turns(history)] == ["user", "assistant"]
    follow = chat("How long did it last?", history)
    assert "[4]" in follow and "6 months" in follow


def test_question_html_never_reaches_the_page(bot: Magbot) -> None:
    chat = make_chat_fn(bot)
    reply = chat("<img src=x onerror=alert(1)> magnesium ![x](https://evil.example/a.png)", [])
    assert "<img" not in reply and "](https://evil" not in reply
