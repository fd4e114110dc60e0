#!/usr/bin/env bash
# Set up, then run everything CI runs: lint, format check, type check, import
# contracts, tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -k executor).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import contracts"; scripts/lint-imports.sh
echo "== pytest"
exec scripts/with-secret-service.sh .venv/bin/python -m pytest "$@"
