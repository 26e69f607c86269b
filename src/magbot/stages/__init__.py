"""The answering stages, in order: ``screen`` (validate, emergencies, injected instructions), ``understand``
(the conversation, intent, subjects, safety topics), ``retrieve`` (hybrid search), ``compose`` (bottom line,
findings, certainty), ``llm_answer`` with ``generate`` and ``verify`` (optional LLM wording, checked sentence by
sentence). ``safety`` holds the phrase patterns and notices, ``banks`` the example data they learn from,
``coverage`` the word-level checks of understanding, ``subjects`` which unknown words name a subject, and
``choose`` which study composing answers from.
``magbot.pipeline`` wires them; each stage has one entry point and passes frozen records on.
"""

__all__ = [
    "banks",
    "choose",
    "compose",
    "coverage",
    "generate",
    "llm_answer",
    "retrieve",
    "safety",
    "screen",
    "subjects",
    "understand",
    "verify",
]
