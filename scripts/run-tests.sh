#!/usr/bin/env bash
# Installs magbot with its test tools, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests drive Debian's chromium (never a browser downloaded by a test tool).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
bash scripts/setup.sh --test
export MAGBOT_ARTIFACTS="${MAGBOT_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$MAGBOT_ARTIFACTS"
.venv/bin/ruff check src tests tools bench app.py
.venv/bin/ruff format --check src tests tools bench app.py
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
echo "screenshots: $MAGBOT_ARTIFACTS/screenshots"
