"""Load test of the HTTP API on loopback: N concurrent users asking for a fixed time (bounded).

    .venv/bin/python bench/load.py [--users 20] [--seconds 30] [--workers 2] [--backend onnx] [--url URL]

Without --url it starts ``magbot serve`` on a free loopback port itself (``--workers`` uvicorn workers,
default 1) and stops it after. Prints sustained answers per second, latency p50/p95, errors other than
deliberate 429s, and the peak RSS of each worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

import httpx

QUESTIONS = [
    "What did the back pain trial find?",
    "Does magnesium help nerve pain?",
    "Is low serum magnesium linked to worse nerve function in type 2 diabetes?",
    "How much magnesium should I take for nerve pain?",
    "Can I take magnesium while pregnant?",
    "Did a high magnesium diet help mice recover from sciatic nerve crush?",
]


def start_server(rate_limit: str, workers: int, backend: str | None) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MAGBOT_RATE_LIMIT": rate_limit, "MAGBOT_PORT": str(port)}
    if backend:
        env["MAGBOT_EMBED_BACKEND"] = backend
    proc = subprocess.Popen(
        [sys.executable, "-m", "magbot.frontends.cli", "serve", "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as resp:
                if json.load(resp)["ready"]:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not start")


def worker_peaks(pid: int) -> list[float]:
    """Peak RSS (MB) of the processes that answer: the server itself, or its workers when it has several."""

    def children(p: int) -> list[int]:
        try:
            with open(f"/proc/{p}/task/{p}/children", encoding="ascii") as fh:
                return [int(c) for c in fh.read().split()]
        except OSError:
            return []

    def peak(p: int) -> float:
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    found = [c for c in children(pid) if peak(c) > 150] or [pid]  # workers hold the model; helpers do not
    return [peak(p) for p in found]


async def user(client: httpx.AsyncClient, n: int, stop: float, latencies: list[float], codes: list[int]) -> None:
    i = n
    while time.monotonic() < stop:
        question = QUESTIONS[i % len(QUESTIONS)]
        i += 1
        start = time.perf_counter()
        try:
            resp = await client.post("/api/ask", json={"question": question})
            codes.append(resp.status_code)
            if resp.status_code == 200:
                latencies.append((time.perf_counter() - start) * 1000)
        except httpx.HTTPError:
            codes.append(-1)


async def run(url: str, users: int, seconds: float) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    codes: list[int] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        start = time.monotonic()
        await asyncio.gather(*(user(client, n, start + seconds, latencies, codes) for n in range(users)))
        elapsed = time.monotonic() - start
    return latencies, codes, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate-limit", default="100000/minute", help="server's limit (one client IP here)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backend", help="MAGBOT_EMBED_BACKEND for the server it starts (onnx, onnx-int8, torch)")
    parser.add_argument("--url", help="an already running server (loopback only)")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load tests only target loopback addresses")
    proc, url = (None, args.url) if args.url else start_server(args.rate_limit, args.workers, args.backend)
    try:
        latencies, codes, elapsed = asyncio.run(run(url, args.users, min(args.seconds, 300)))
        peaks = worker_peaks(proc.pid) if proc else []
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    ok = sum(1 for c in codes if c == 200)
    limited = sum(1 for c in codes if c == 429)
    errors = len(codes) - ok - limited
    q = statistics.quantiles(latencies, n=20) if len(latencies) >= 20 else [float("nan")] * 19
    backend = args.backend or os.environ.get("MAGBOT_EMBED_BACKEND", "default")
    print(
        f"load: {args.users} users, {elapsed:.0f} s, {args.workers} worker(s), backend {backend}, "
        f"rate limit {args.rate_limit}"
    )
    print(
        f"answers/s {ok / elapsed:.1f}  p50 {statistics.median(latencies):.0f} ms  p95 {q[18]:.0f} ms  "
        f"ok {ok}  429 {limited}  errors {errors}"
    )
    if peaks:
        print("peak RSS per worker: " + ", ".join(f"{mb:.0f} MB" for mb in peaks))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
