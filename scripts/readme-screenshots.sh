#!/usr/bin/env bash
# Retake the README's screenshots (docs/screenshots/*.png) with this tree's
# editor: offscreen, 1440x900, dark theme, a fresh settings/data folder (no
# recent files or window state of the user's). The quick-start example runs on
# a copy, so that its report is not written into resources/examples/.
#   scripts/readme-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" FLOWDESK_DATA_DIR="$tmp/flowdesk"
out=${OUT:-$PWD/docs/screenshots}
mkdir -p "$tmp/examples"
cp -r resources/examples/quickstart.flow.json resources/examples/data "$tmp/examples/"
flow="$tmp/examples/quickstart.flow.json"
.venv/bin/flowdesk edit "$flow" --theme dark --screenshot "$out/editor.png"
.venv/bin/flowdesk edit "$flow" --theme dark --run --select summarise --screenshot "$out/run.png"
.venv/bin/python scripts/sources_screenshot.py "$out/sources.png"
.venv/bin/python scripts/describe_screenshot.py "$out/describe-proposal.png"
