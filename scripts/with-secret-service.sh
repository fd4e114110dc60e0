#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring
# Secret Service whose data lives in a temporary folder, so keyring tests use a
# real backend and never touch the user's own keyring.
#   scripts/with-secret-service.sh COMMAND [ARGS...]
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-secret-service: dbus-run-session or gnome-keyring-daemon missing;" \
       "run scripts/setup.sh --test" >&2
  exit 2
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/data" "$scratch/runtime"
chmod 700 "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime"
export FLOWDESK_TEST_SECRET_SERVICE=1
exec dbus-run-session -- bash -c '
  echo -n "flowdesk-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' bash "$@"
