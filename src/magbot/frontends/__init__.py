"""Everything people use: ``cli``, the web ``server`` (FastAPI with the Gradio chat of ``ui`` and the JSON/SSE
``api``), the widget in ``static/``, the admission rules of ``websecurity``, and ``present``, the one place that
decides how an answer is shown.
"""

__all__ = ["api", "cli", "present", "server", "ui", "websecurity"]
