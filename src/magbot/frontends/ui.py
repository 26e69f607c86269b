"""The web chat (Gradio Blocks). Chat logic lives in plain functions that tests call without a browser.

No per-user state lives at module level. Each session's conversation (the messages shown and the answer
objects behind them) is kept on the server in ``gr.State``, bounded in turns, sessions and time: the browser
sends only the new question, so a client cannot replace or inflate the history it is answered with.
"""

import html
import logging
from collections.abc import Iterator
from typing import Any

from magbot._models import EVIDENCE_LABELS, Answer, Turn
from magbot.admin.feedback import REASONS, FeedbackStore, stored_notice
from magbot.frontends.present import STARTERS, as_html, paragraphs_html
from magbot.pipeline import Magbot
from magbot.stages.safety import DISCLAIMER

log = logging.getLogger(__name__)

WELCOME = (
    "**Welcome.** Ask anything about magnesium and nerve pain in your own words, or pick a starter question "
    "below. Every answer says how strong its evidence is and which study it comes from."
)
# Once an answer is complete, show where it starts: with its question when both fit, else its first line.
SHOW_ANSWER_START = """() => { setTimeout(() => {
  const chat = document.querySelector('#mb-chat');
  const question = chat && [...chat.querySelectorAll('.user-row')].pop();
  const answer = chat && [...chat.querySelectorAll('.bot-row')].pop();
  if (!question || !answer) return;
  let box = answer.parentElement;
  while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowY)) box = box.parentElement;
  const room = box ? box.clientHeight : innerHeight;
  const gap = answer.getBoundingClientRect().top - question.getBoundingClientRect().top;
  (gap + 80 < room ? question : answer).scrollIntoView({block: 'start', behavior: 'instant'});
}, 150); }"""
SHOW_FEEDBACK_FORM = """() => { setTimeout(() => {
  const form = document.querySelector('#mb-feedback:not(.hidden)') || document.querySelector('#mb-thanks');
  if (form) form.scrollIntoView({block: 'nearest', behavior: 'instant'});
}, 150); }"""
ERROR_MESSAGE = "Sorry, magbot could not answer just now. Please try again in a moment."
_E = html.escape


def turns_from(answers: list[dict[str, Any]]) -> list[Turn]:
    """The conversation so far, rebuilt from this session's answer objects."""
    turns: list[Turn] = []
    for a in answers:
        if a.get("question"):
            turns.append(Turn(role="user", content=str(a["question"])[:20_000]))
            turns.append(Turn(role="assistant", content=str(a["answer"])[:20_000]))
    return turns


def respond(
    bot: Magbot, message: str, history: list[dict[str, Any]], answers: list[dict[str, Any]]
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], str]]:
    """Stream one turn: the answer text appears as it is composed, then the cards and disclaimer."""
    keep = max(1, bot.settings.max_history_turns)  # bounded: the session keeps its last turns only
    kept_answers = answers[max(0, len(answers) - (keep - 1)) :] if keep > 1 else []
    cut = _start_of_last_turns(history, len(kept_answers))
    answers = kept_answers
    shown = f"<p>{_E(message)}</p>"  # the person's own words, shown as text
    history = [*history[cut:], {"role": "user", "content": shown}, {"role": "assistant", "content": ""}]
    text = ""
    answer: Answer | None = None
    try:
        for event in bot.ask_stream(message, turns_from(answers)):
            if event.answer is not None:
                answer = event.answer
                break
            text = text + event.text if event.kind == "delta" else event.text
            history[-1]["content"] = paragraphs_html(text + " …")
            yield history, answers, ""
    except Exception:
        log.exception("answering failed")
        history[-1]["content"] = f'<p class="mb-error">{_E(ERROR_MESSAGE)}</p>'
        yield history, [*answers, {"question": message, "answer": "", "status": "error"}], ""
        return
    assert answer is not None
    history[-1]["content"] = as_html(answer, bot.knowledge.study_count)
    yield history, [*answers, answer.model_dump()], ""


def _start_of_last_turns(history: list[dict[str, Any]], turns: int) -> int:
    """Index in ``history`` where its last ``turns`` assistant messages (and their questions) begin."""
    seen = 0
    for i in range(len(history) - 1, -1, -1):
        if history[i].get("role") == "assistant":
            seen += 1
            if seen > turns:
                return i + 1
    return 0


def answer_for_message(history: list[dict[str, Any]], answers: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """The answer object behind the assistant message at ``index`` of the chat."""
    position = sum(1 for m in history[:index] if m.get("role") == "assistant")
    return answers[position]


def build_blocks(bot: Magbot, store: FeedbackStore) -> Any:
    import gradio as gr

    kb = bot.knowledge
    notice = stored_notice(store.retention_days)
    studies = bot.knowledge.study_count
    header = (
        '<div class="mb-header"><h1>magbot</h1><p><span class="mb-long">Questions about <strong>magnesium and '
        f"nerve pain</strong>, answered only from the article “{_E(kb.sources[0].title)}” and the {studies} "
        "studies it cites, each answer with its citations and how strong each study is.</span>"
        f'<span class="mb-short">Magnesium and nerve pain: cited answers from one article and its {studies} '
        'studies.</span> <a href="/sources" target="_blank" rel="noopener">See all sources</a></p></div>'
    )

    with gr.Blocks(title="magbot: magnesium and nerve pain", analytics_enabled=False) as demo:
        gr.HTML(header)
        gr.HTML(f'<p class="mb-notice" id="mb-notice">{_E(DISCLAIMER)}</p>')
        ttl = bot.settings.chat_session_ttl
        shown = gr.State([], time_to_live=ttl)  # the messages on screen, kept on the server
        answers = gr.State([], time_to_live=ttl)  # the answer object behind each assistant message
        pending = gr.State(None, time_to_live=ttl)
        chatbot = gr.Chatbot(
            elem_id="mb-chat",
            placeholder=WELCOME,
            autoscroll=False,  # SHOW_ANSWER_START brings the start of each answer into view instead
            buttons=["copy"],  # a copy button per message; no share (to Hugging Face) and no copy-all
            height="60vh",
            feedback_options=("Like", "Dislike"),
            sanitize_html=True,
            layout="panel",
            show_label=False,
        )
        # The reason form sits right under the chat, next to the answer it rates.
        with gr.Group(visible=False, elem_id="mb-feedback") as panel:
            gr.Markdown("**What was wrong with this answer?** (optional)")
            reason = gr.Radio(list(REASONS), show_label=False, elem_id="mb-reason")
            comment = gr.Textbox(placeholder="Anything else? (optional)", show_label=False, elem_id="mb-comment")
            save = gr.Button("Send feedback", size="sm", elem_id="mb-save")
        thanks = gr.Markdown(visible=False, elem_id="mb-thanks")
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                placeholder="Ask about magnesium and nerve pain…",
                show_label=False,
                scale=5,
                elem_id="mb-input",
                max_lines=4,
                autofocus=True,
            )
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="mb-send", min_width=60)
        with gr.Row(elem_id="mb-starters"):
            starter_buttons = [gr.Button(q, size="sm") for q in STARTERS]
        gr.HTML(f'<p class="mb-stored" id="mb-stored">{_E(notice)}</p>')

        def on_like(
            history: list[dict[str, Any]], answers_: list[dict[str, Any]], data: gr.LikeData
        ) -> tuple[Any, Any, Any]:
            try:
                answer = answer_for_message(
                    history, answers_, int(data.index if isinstance(data.index, int) else data.index[0])
                )
                record = store.add("up" if data.liked is True or data.liked == "Like" else "down", answer)
            except Exception:
                log.exception("storing feedback failed")
                return None, gr.update(visible=False), gr.update(visible=True, value="Feedback could not be saved.")
            if data.liked is True or data.liked == "Like":
                return None, gr.update(visible=False), gr.update(visible=True, value="Thanks for the feedback.")
            return record, gr.update(visible=True), gr.update(visible=False)

        def on_save(record: int | None, reason_: str | None, comment_: str) -> tuple[Any, Any, Any, Any]:
            if record is not None:
                store.update(record, reason_ or None, comment_)
            return None, gr.update(visible=False), gr.update(visible=True, value="Thanks, your feedback was saved."), ""

        chatbot.like(on_like, [shown, answers], [pending, panel, thanks]).then(None, js=SHOW_FEEDBACK_FORM)
        save.click(on_save, [pending, reason, comment], [pending, panel, thanks, comment])

        def chat(message: str, history: list[dict[str, Any]], answers_: list[dict[str, Any]]) -> Iterator[Any]:
            for messages, kept, cleared in respond(bot, message, history or [], answers_ or []):
                yield messages, messages, kept, cleared

        outputs = [chatbot, shown, answers, box]
        box.submit(chat, [box, shown, answers], outputs).then(None, js=SHOW_ANSWER_START)
        send.click(chat, [box, shown, answers], outputs).then(None, js=SHOW_ANSWER_START)
        for button in starter_buttons:
            button.click(chat, [button, shown, answers], outputs).then(None, js=SHOW_ANSWER_START)
    demo.state_session_capacity = bot.settings.chat_sessions  # the oldest sessions beyond this are dropped
    return demo


CSS = """
.mb-header h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
.mb-notice { font-size: .9rem; background: #fff7e0; color: #5a4300; border-radius: 6px; padding: .4rem .6rem;
  margin: 0; }
.mb-banner { padding: .4rem .6rem; border-radius: 6px; margin-bottom: .4rem; }
.mb-urgent, .mb-urgent strong { background: #b00020; color: #fff !important; font-size: 1.05rem; }
.mb-decline { background: #eef2f7; color: #1c2b3a; }
.mb-card { border: 1px solid #d0d7de; border-radius: 8px; padding: .5rem .6rem; margin: .4rem 0; }
.mb-marker { font-weight: 700; }
.mb-badge { display: inline-block; font-size: .75rem; padding: .05rem .45rem; border-radius: 999px; background: #e7edf3;
  color: #1c2b3a; }
.mb-meta-analysis, .mb-rct { background: #dff3e4; color: #11451f; }
.mb-protocol, .mb-animal { background: #fde7e7; color: #6b1010; }
.mb-review, .mb-cross-sectional { background: #fff1d6; color: #5a3b00; }
.mb-title { font-weight: 600; margin: .2rem 0; overflow-wrap: anywhere; }
.mb-meta, .mb-note { font-size: .85rem; }
.mb-disclaimer { font-size: .8rem; opacity: .8; }
.mb-stored { font-size: .8rem; margin: .2rem 0 0; color: #3d4a57; }
.mb-bottom { font-size: 1.05rem; border-left: 4px solid #1f5f99; padding-left: .6rem; }
.mb-certainty { display: inline-block; font-size: .75rem; font-weight: 600; padding: .05rem .45rem; margin-left: .3rem;
  border-radius: 999px; background: #e7edf3; color: #1c2b3a; }
.mb-check { font-size: .85rem; background: #eef2f7; border-radius: 6px; padding: .3rem .5rem; }
#mb-starters button { white-space: normal; }
#mb-send { background: #1f5f99; border-color: #1f5f99; color: #fff; }
#mb-send:hover { background: #174a78; }
.mb-short { display: none; }
@media (max-width: 480px) {
  .mb-header h1 { font-size: 1.2rem; margin: 0; }
  .mb-header p { font-size: .85rem; margin: 0; }
  .mb-long { display: none; }
  .mb-short { display: inline; }
  .mb-notice { font-size: .8rem; padding: .25rem .5rem; }
}
"""


def sources_page(bot: Magbot) -> str:
    """A standalone HTML page listing the article and every study with its evidence note."""
    kb = bot.knowledge
    items = []
    for s in kb.sources[1:]:
        url = s.url or ""
        link = (
            f'<a href="{_E(url)}" target="_blank" rel="noopener noreferrer">{_E(s.title)}</a>' if url else _E(s.title)
        )
        items.append(
            f"<li><p><strong>[{s.number}]</strong> {_E(s.author_line)} ({s.year}). {link}. <em>{_E(s.journal or '')}"
            f'</em></p><p><span class="badge">{_E(EVIDENCE_LABELS[s.evidence_level])}</span> '
            f"{_E(s.study_type or '')}</p><p>{_E(s.evidence_note or '')}</p></li>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><title>magbot sources</title>'
        '<link rel="stylesheet" href="/static/sources.css"></head><body><main><h1>Sources magbot answers from</h1>'
        f"<p>The article: <strong>{_E(kb.sources[0].title)}</strong> (a consumer-health article). magbot cites "
        "the studies below for the article's statements that refer to them.</p>"
        f'<ol>{"".join(items)}</ol><p><a href="/">Back to the chat</a></p>'
        f"<p><em>{_E(DISCLAIMER)}</em></p></main></body></html>"
    )
