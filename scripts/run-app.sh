#!/usr/bin/env bash
# Installs magbot if needed, builds the index, and starts the web chat on http://127.0.0.1:7860/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/magbot ingest
exec .venv/bin/python app.py
