#!/usr/bin/env bash
# Set up Flowdesk on Debian 12 (or Ubuntu): the system libraries Qt needs,
# then a virtual environment in .venv with Flowdesk installed (editable).
#   scripts/setup.sh          the app           (pip extra: gui)
#   scripts/setup.sh --test   app + test tools  (pip extra: dev) + a Secret Service for keyring tests
set -euo pipefail
cd "$(dirname "$0")/.."

extra="gui"
packages=(
  python3-venv
  # Qt (PySide6 wheels) on a bare Debian 12: offscreen rendering ...
  libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
  # ... and the xcb platform plugin for a real screen
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xkb1
  libxcb-image0 libxcb-render-util0 libxcb-randr0 libx11-xcb1
)
if [[ "${1:-}" == "--test" ]]; then
  extra="dev"
  # a real Secret Service (gnome-keyring under dbus-run-session) for keyring tests
  packages+=(gnome-keyring dbus)
  # npm: the OpenAPI tests install GitHub's REST description (@octokit/openapi) with it
  # (only when no npm is on PATH: a Node.js installed outside Debian's packages
  # brings its own, and Debian's npm would conflict with it)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
  # flowdesk serve/worker tests: a real Redis (broker, job records) and
  # promtool (packaging/prometheus rules are checked with it)
  packages+=(redis-server prometheus)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extra]"
echo "Flowdesk is set up in .venv ($(.venv/bin/flowdesk --version))."
