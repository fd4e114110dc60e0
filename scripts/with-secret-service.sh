#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring
# Secret Service whose data lives in a temporary folder, so keyring tests use a
# real backend and never touch the user's own keyring. When the command ends
# (or is interrupted) its keyring daemon is stopped and the folder removed:
# nothing is left running. The command's exit status is this script's.
#   scripts/with-secret-service.sh COMMAND [ARGS...]
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-secret-service: dbus-run-session or gnome-keyring-daemon missing;" \
       "run scripts/setup.sh --test" >&2
  exit 2
fi
scratch=$(mktemp -d)
mkdir -p "$scratch/data" "$scratch/runtime"
chmod 700 "$scratch/runtime"

cleanup() {
  # gnome-keyring-daemon outlives the D-Bus session: stop the one of this
  # session (the one whose runtime folder is ours), then remove the folder
  local pid
  for pid in $(pgrep -x gnome-keyring-d 2>/dev/null || true); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$scratch/runtime"; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$scratch"
}
trap cleanup EXIT

export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime"
export FLOWDESK_TEST_SECRET_SERVICE=1
status=0
dbus-run-session -- bash -c '
  echo -n "flowdesk-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' bash "$@" || status=$?
exit "$status"
