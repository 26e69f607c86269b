"""The evaluation set meets its goals with the real model and index."""

from __future__ import annotations

from magbot import Magbot
from magbot.evaluate import load_items, run_eval


def test_eval_goals_hold(bot: Magbot) -> None:
    items = load_items()
    assert len(items) >= 40
    assert {f"ref-{n}" for n in range(1, 10)} <= {i for item in items for i in item.expect}
    report = run_eval(bot, items)
    print(report.table())
    assert report.hit_rate >= 0.95
    assert report.precision >= 0.90
    assert report.decline_accuracy == 1.0
    assert report.urgent_accuracy == 1.0
