#!/usr/bin/env bash
# Installs magbot with its test tools, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export MAGBOT_ARTIFACTS="${MAGBOT_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$MAGBOT_ARTIFACTS"
.venv/bin/ruff check src tests tools bench app.py
.venv/bin/ruff format --check src tests tools bench app.py
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
