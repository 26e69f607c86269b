#!/usr/bin/env bash
# Installs magbot with its test tools, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# System packages the tests use: Debian's chromium (browser tests; never a browser downloaded by a test tool),
# nginx and redis-server (started by the tests themselves on loopback ports).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
export PATH="$PATH:/usr/sbin"
bash scripts/setup.sh --test
export MAGBOT_ARTIFACTS="${MAGBOT_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$MAGBOT_ARTIFACTS"
.venv/bin/ruff check src tests tools bench app.py
.venv/bin/ruff format --check src tests tools bench app.py
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
echo "screenshots: $MAGBOT_ARTIFACTS/screenshots"
