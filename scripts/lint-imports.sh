#!/usr/bin/env bash
# Check the import contracts of pyproject.toml [tool.importlinter] (the engine
# never imports the editor or Qt; the editor imports the engine's facade only;
# the document model never imports Qt) with import-linter, then that no new
# import cycle appeared (scripts/import_cycles.py).
# grimp finds a package's modules by walking its folder, but the editable
# install maps engine/ and editor/ into `flowdesk` with an import hook, so the
# check runs on a temporary tree of symbolic links laid out as installed:
# flowdesk/{*.py, engine -> engine/, editor -> editor/}.
# Extra arguments go to lint-imports (e.g. --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/flowdesk"
ln -s "$root"/flowdesk/*.py "$tree/flowdesk/"
ln -s "$root/engine" "$tree/flowdesk/engine"
ln -s "$root/editor" "$tree/flowdesk/editor"
# (lint-imports puts its working folder first on sys.path: run it in the tree)
cd "$tree"
"$root/.venv/bin/lint-imports" --no-cache --no-logo "$@" "$root/pyproject.toml"
PYTHONPATH="$tree" "$root/.venv/bin/python" "$root/scripts/import_cycles.py"
