#!/usr/bin/env bash
# Smoke-test a built Flowdesk bundle the way a user would run it.
#
#   packaging/smoke-test.sh PATH-TO-BUNDLE [--deb FILE.deb] [--keep]
#
# PATH-TO-BUNDLE is the one-folder bundle (dist/flowdesk) or its executable. The .deb
# defaults to the newest flowdesk_*.deb beside the bundle. Everything the program
# writes (settings, history, autosave, the example's output) goes to a scratch
# directory; the bundle and the system are left as they were (the .deb is installed
# into a scratch root with dpkg --root, maintainer scripts included, then purged).
#
# Checks: version; node types; headless run of the quick-start example (status
# succeeded, report written with the expected totals); validate; offscreen screenshot
# of the editor with the example loaded (checked non-blank); all bundled libraries
# resolve once the .deb's Depends are installed; the .deb's contents, MIME and
# desktop registration, a run of the installed binary, and a clean purge; the xcb
# platform under Xvfb (when xvfb-run is installed); credentials through the OS
# keyring (when `flowdesk credentials` exists and gnome-keyring is installed).
# Ends with "N passed, N failed, N skipped"; exit status 1 if anything failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUNDLE="" DEB="" KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --deb) DEB="$2"; shift ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) BUNDLE="$1" ;;
    esac
    shift
done
[ -n "$BUNDLE" ] || { echo "usage: smoke-test.sh PATH-TO-BUNDLE [--deb FILE.deb] [--keep]" >&2; exit 2; }
[ -f "$BUNDLE" ] && BUNDLE="$(dirname "$BUNDLE")"
BUNDLE="$(cd "$BUNDLE" && pwd)"
BIN="$BUNDLE/flowdesk"
[ -x "$BIN" ] || { echo "smoke-test.sh: no executable $BIN" >&2; exit 2; }
if [ -z "$DEB" ]; then
    DEB="$(ls -t "$(dirname "$BUNDLE")"/flowdesk_*.deb 2>/dev/null | head -1 || true)"
fi

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/flowdesk-smoke.XXXXXX")"
cleanup() { if [ "$KEEP" = 1 ]; then echo "(kept $SCRATCH)"; else rm -rf "$SCRATCH"; fi; }
trap cleanup EXIT
# A private home: the editor's settings, autosave and the run history go here.
export HOME="$SCRATCH/home" XDG_CONFIG_HOME="$SCRATCH/home/.config" \
    XDG_DATA_HOME="$SCRATCH/home/.local/share" XDG_CACHE_HOME="$SCRATCH/home/.cache" \
    XDG_STATE_HOME="$SCRATCH/home/.local/state" XDG_RUNTIME_DIR="$SCRATCH/runtime"
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset FLOWDESK_RESOURCES

# A Python for the checks: anything with the stdlib (PySide6 is used when present).
PY="${SMOKE_PYTHON:-}"
if [ -z "$PY" ]; then
    for candidate in "$HERE/../build/venv-linux/bin/python" python3; do
        if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
    done
fi

PASS=0 FAIL=0 SKIP=0
ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
skip() { SKIP=$((SKIP + 1)); echo "skip - $*"; }
show() { sed 's/^/       | /' "$1" | head -"${2:-15}"; }
timed() {  # timed OUT_FILE CMD...: run, capture stdout+stderr, set RC and SECS
    local t0 t1
    t0=$(date +%s%N)
    "${@:2}" >"$1" 2>&1
    RC=$?
    t1=$(date +%s%N)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
}

echo "# Flowdesk smoke test: $BUNDLE ($(du -sm "$BUNDLE" | cut -f1) MB)"

# --- 1. version -------------------------------------------------------------------------
timed "$SCRATCH/version.txt" "$BIN" --version
VERSION="$(sed -n 's/^flowdesk \([0-9][^ ]*\)$/\1/p' "$SCRATCH/version.txt")"
if [ $RC = 0 ] && [ -n "$VERSION" ]; then ok "version: flowdesk $VERSION (${SECS} s)"
else bad "version (rc $RC)"; show "$SCRATCH/version.txt"; fi

# --- 2. node types (every built-in module collected) -------------------------------------
timed "$SCRATCH/nodes.json" "$BIN" nodes --json
TYPES="$("$PY" -c 'import json,sys
d=json.load(open(sys.argv[1])); items=d if isinstance(d,list) else d.get("node_types", d.get("types", d))
names=sorted((i.get("type") or i.get("type_name") or i.get("name")) for i in items) if isinstance(items,list) else sorted(items)
print(" ".join(names))' "$SCRATCH/nodes.json" 2>/dev/null)"
MISSING=""
for t in file.read file.write data.transform flow.if flow.merge http.request ai.transform; do
    case " $TYPES " in *" $t "*) ;; *) MISSING="$MISSING $t" ;; esac
done
if [ $RC = 0 ] && [ -z "$MISSING" ]; then ok "node types: $TYPES"
else bad "node types (rc $RC) missing:$MISSING"; show "$SCRATCH/nodes.json"; fi

# Help ▸ Documentation reads the bundled pages (offline)
DOCS="$BUNDLE/_internal/flowdesk/docs"
[ -d "$DOCS" ] || DOCS="$BUNDLE/flowdesk/docs"
if [ -f "$DOCS/workflow-format.md" ] && [ -f "$DOCS/ui.md" ]; then
    ok "documentation bundled: $(ls "$DOCS"/*.md | wc -l) pages"
else bad "documentation pages missing under $DOCS"; fi

# --- 3. headless run of the quick-start example ------------------------------------------
EXAMPLES="$BUNDLE/_internal/flowdesk/resources/examples"
[ -d "$EXAMPLES" ] || EXAMPLES="$BUNDLE/flowdesk/resources/examples"
WORK="$SCRATCH/work"
mkdir -p "$WORK" && cp -r "$EXAMPLES" "$WORK/examples" && rm -rf "$WORK/examples/output"
FLOW="$WORK/examples/quickstart.flow.json"
timed "$SCRATCH/run.json" "$BIN" run "$FLOW" --json
RUN_CHECK="$("$PY" - "$SCRATCH/run.json" "$WORK/examples/output/report.json" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
assert result["status"] == "succeeded", f"status {result['status']}"
bad = [n for n, r in result["nodes"].items() if r["status"] not in ("succeeded", "skipped")]
assert not bad, f"nodes not succeeded: {bad}"
summary = report["summary"]
assert summary["orders"] == 6 and abs(summary["total"] - 787.65) < 1e-9, summary
assert report["headline"] == "Big day: 6 orders worth 787.65", report["headline"]
print(f"status succeeded, {len(result['nodes'])} nodes, report: {report['headline']!r}")
EOF
)"
if [ $RC = 0 ] && [ -n "$RUN_CHECK" ]; then ok "run quickstart.flow.json --json: $RUN_CHECK (${SECS} s)"
else bad "run quickstart (rc $RC)"; show "$SCRATCH/run.json"; fi

timed "$SCRATCH/history.txt" "$BIN" history --limit 1
if [ $RC = 0 ] && grep -q "succeeded" "$SCRATCH/history.txt"; then ok "history records the run"
else bad "history (rc $RC)"; show "$SCRATCH/history.txt"; fi

timed "$SCRATCH/validate.txt" "$BIN" validate "$FLOW"
if [ $RC = 0 ]; then ok "validate quickstart.flow.json"; else bad "validate (rc $RC)"; show "$SCRATCH/validate.txt"; fi

# --- 4. the editor, offscreen --------------------------------------------------------------
screenshot_check() {  # screenshot_check LABEL PNG LOG [env...] -- run by the caller
    local label="$1" png="$2" log="$3"
    if [ $RC = 0 ] && [ -s "$png" ] && "$PY" "$HERE/check_png.py" "$png" 1440 900 >"$log.png" 2>&1; then
        ok "$label: $(cat "$log.png") (${SECS} s)"
    else
        bad "$label (rc $RC)"; show "$log"; [ -f "$log.png" ] && show "$log.png"
    fi
}
SHOT="$SCRATCH/editor-offscreen.png"
timed "$SCRATCH/edit.txt" env QT_QPA_PLATFORM=offscreen "$BIN" edit "$FLOW" --screenshot "$SHOT"
screenshot_check "editor screenshot, offscreen" "$SHOT" "$SCRATCH/edit.txt"
if [ -n "${SMOKE_SCREENSHOT_OUT:-}" ] && [ -f "$SHOT" ]; then cp "$SHOT" "$SMOKE_SCREENSHOT_OUT"; fi

# --- 5. the xcb platform plug-in on a real X server (Xvfb) ---------------------------------
if command -v xvfb-run >/dev/null 2>&1; then
    SHOT_X="$SCRATCH/editor-xcb.png"
    timed "$SCRATCH/edit-xcb.txt" xvfb-run -a -s "-screen 0 1600x1000x24" \
        env QT_QPA_PLATFORM=xcb "$BIN" edit "$FLOW" --screenshot "$SHOT_X"
    screenshot_check "editor screenshot, xcb under Xvfb" "$SHOT_X" "$SCRATCH/edit-xcb.txt"
else
    skip "xcb under Xvfb: xvfb-run is not installed (apt-get install xvfb xauth)"
fi

# --- 6. system libraries -------------------------------------------------------------------
find "$BUNDLE" -type f \( -name '*.so*' -o -name flowdesk \) -print0 \
    | xargs -0 ldd 2>/dev/null | awk '/not found/{print $1}' | sort -u >"$SCRATCH/notfound.txt"
DEPS_MISSING=""
if [ -n "$DEB" ] && [ -f "$DEB" ]; then
    for dep in $(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//' | tr -d ' '); do
        dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" || DEPS_MISSING="$DEPS_MISSING $dep"
    done
fi
if [ ! -s "$SCRATCH/notfound.txt" ]; then
    ok "every bundled library resolves (ldd)"
elif [ -n "$DEPS_MISSING" ]; then
    skip "ldd: $(tr '\n' ' ' <"$SCRATCH/notfound.txt")not found; this machine lacks the .deb's Depends:$DEPS_MISSING"
else
    bad "ldd: not found although the .deb's Depends are installed: $(tr '\n' ' ' <"$SCRATCH/notfound.txt")"
fi

# --- 7. the .deb -----------------------------------------------------------------------------
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
    skip ".deb: none found beside the bundle (pass --deb FILE)"
else
    echo "# $(basename "$DEB"): $(du -k "$DEB" | cut -f1) KiB; Depends: $(dpkg-deb -f "$DEB" Depends | cut -c1-90)..."
    dpkg-deb -c "$DEB" | awk '{print $6 ($7 ? " " $7 " " $8 : "")}' >"$SCRATCH/deb-contents.txt"
    WANT="./opt/flowdesk/flowdesk ./usr/bin/flowdesk -> /opt/flowdesk/flowdesk ./usr/share/applications/flowdesk.desktop ./usr/share/mime/packages/flowdesk.xml ./usr/share/icons/hicolor/scalable/apps/flowdesk.svg ./usr/share/icons/hicolor/48x48/apps/flowdesk.png ./usr/share/icons/hicolor/256x256/apps/flowdesk.png"
    LACKING=""
    while read -r path; do grep -qxF "$path" "$SCRATCH/deb-contents.txt" || LACKING="$LACKING $path"; done \
        < <(echo "$WANT" | sed 's| \./|\n./|g')
    OWNERS="$(dpkg-deb -c "$DEB" | awk '{print $2}' | sort -u | tr '\n' ' ')"
    if [ -z "$LACKING" ] && [ "$OWNERS" = "root/root " ]; then
        ok ".deb contents: $(wc -l <"$SCRATCH/deb-contents.txt") entries, all root/root, /opt/flowdesk + /usr/bin/flowdesk + desktop entry + MIME + icons"
    else
        bad ".deb contents: lacking:$LACKING owners: $OWNERS"
    fi

    # dpkg -x: unpack and run the installed binary from the scratch root
    XROOT="$SCRATCH/deb-x"
    dpkg -x "$DEB" "$XROOT"
    # /usr/bin/flowdesk is an absolute symlink to /opt/flowdesk/flowdesk; the same kind of
    # link, pointing into the scratch root, is put on PATH and the program run through it.
    mkdir -p "$SCRATCH/bin" && ln -s "$XROOT/opt/flowdesk/flowdesk" "$SCRATCH/bin/flowdesk"
    timed "$SCRATCH/deb-version.txt" env PATH="$SCRATCH/bin:$PATH" flowdesk --version
    rm -rf "$WORK/examples/output"
    timed "$SCRATCH/deb-run.json" env PATH="$SCRATCH/bin:$PATH" flowdesk run "$FLOW" --json --quiet
    STATUS="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$SCRATCH/deb-run.json" 2>/dev/null)"
    if grep -qx "flowdesk $VERSION" "$SCRATCH/deb-version.txt" && [ "$STATUS" = succeeded ] \
        && [ -s "$WORK/examples/output/report.json" ]; then
        ok "dpkg -x: installed program, run through a symlink on PATH: $(cat "$SCRATCH/deb-version.txt"), quick-start run $STATUS"
    else
        bad "dpkg -x: installed binary"; show "$SCRATCH/deb-version.txt"; show "$SCRATCH/deb-run.json"
    fi
    # What a double-click on a .flow.json runs: the desktop entry's Exec line with %f
    # replaced by the file (plus --screenshot, so that it renders and exits).
    EXEC_LINE="$(sed -n 's/^Exec=//p' "$XROOT/usr/share/applications/flowdesk.desktop" | head -1)"
    read -r -a EXEC_ARGV <<<"${EXEC_LINE//%f/$FLOW}"
    SHOT_DEB="$SCRATCH/editor-deb.png"
    timed "$SCRATCH/deb-edit.txt" env PATH="$SCRATCH/bin:$PATH" QT_QPA_PLATFORM=offscreen \
        "${EXEC_ARGV[@]}" --screenshot "$SHOT_DEB"
    screenshot_check "dpkg -x: desktop entry 'Exec=$EXEC_LINE' opens the example" "$SHOT_DEB" "$SCRATCH/deb-edit.txt"
    if command -v desktop-file-validate >/dev/null 2>&1; then
        if desktop-file-validate "$XROOT/usr/share/applications/flowdesk.desktop" >"$SCRATCH/dfv.txt" 2>&1; then
            ok "desktop-file-validate flowdesk.desktop"
        else bad "desktop-file-validate"; show "$SCRATCH/dfv.txt"; fi
    else
        skip "desktop-file-validate: not installed (apt-get install desktop-file-utils)"
    fi

    # dpkg --root: a real install (maintainer scripts included) into a scratch root, then purge
    IROOT="$SCRATCH/deb-root"
    mkdir -p "$IROOT/var/lib/dpkg/info" "$IROOT/var/lib/dpkg/updates" "$IROOT/usr/share/mime/packages" \
        "$IROOT/usr/share/applications" "$IROOT/usr/share/icons/hicolor"
    touch "$IROOT/var/lib/dpkg/status" "$IROOT/var/lib/dpkg/available"
    [ -f /usr/share/icons/hicolor/index.theme ] && cp /usr/share/icons/hicolor/index.theme "$IROOT/usr/share/icons/hicolor/"
    [ -f /usr/share/mime/packages/freedesktop.org.xml ] && cp /usr/share/mime/packages/freedesktop.org.xml "$IROOT/usr/share/mime/packages/"
    DPKG=(dpkg --root="$IROOT" --force-script-chrootless --force-depends --force-not-root --log=/dev/null)
    if "${DPKG[@]}" -i "$DEB" >"$SCRATCH/dpkg-i.txt" 2>&1; then
        REG=""
        if command -v update-mime-database >/dev/null 2>&1; then
            grep -q 'application/x-flowdesk-flow:\*\.flow\.json' "$IROOT/usr/share/mime/globs2" 2>/dev/null \
                && REG="$REG MIME *.flow.json -> application/x-flowdesk-flow;" || REG="$REG MIME-NOT-REGISTERED;"
        fi
        if command -v update-desktop-database >/dev/null 2>&1; then
            grep -q 'application/x-flowdesk-flow=flowdesk.desktop' "$IROOT/usr/share/applications/mimeinfo.cache" 2>/dev/null \
                && REG="$REG opens with flowdesk.desktop;" || REG="$REG DESKTOP-NOT-REGISTERED;"
        fi
        timed "$SCRATCH/dpkg-run.txt" "$IROOT/opt/flowdesk/flowdesk" --version
        case "$REG" in
            *NOT-REGISTERED*) bad "dpkg --root install:$REG"; show "$SCRATCH/dpkg-i.txt" ;;
            *) if [ $RC = 0 ]; then ok "dpkg --root install (postinst ran):${REG:- no cache tools here;} $(cat "$SCRATCH/dpkg-run.txt")"
               else bad "dpkg --root install: binary does not run"; show "$SCRATCH/dpkg-run.txt"; fi ;;
        esac
        "${DPKG[@]}" -P flowdesk >"$SCRATCH/dpkg-P.txt" 2>&1
        LEFT="$(cd "$IROOT" && { ls -d opt/flowdesk usr/bin/flowdesk usr/share/applications/flowdesk.desktop \
            usr/share/mime/packages/flowdesk.xml usr/share/doc/flowdesk 2>/dev/null;
            find usr/share/icons -name 'flowdesk*' -o -name 'application-x-flowdesk-flow*' 2>/dev/null; } | tr '\n' ' ')"
        STALE="$(grep -l 'flowdesk' "$IROOT/usr/share/mime/globs2" "$IROOT/usr/share/applications/mimeinfo.cache" 2>/dev/null | tr '\n' ' ')"
        if [ -z "$LEFT" ] && [ -z "$STALE" ] && ! grep -q '^Package: flowdesk' "$IROOT/var/lib/dpkg/status"; then
            ok "dpkg --root purge: no file left, MIME/desktop caches no longer name flowdesk"
        else
            bad "dpkg --root purge: left: $LEFT stale caches: $STALE"; show "$SCRATCH/dpkg-P.txt"
        fi
    else
        bad "dpkg --root -i"; show "$SCRATCH/dpkg-i.txt"
    fi
fi

# --- 8. credentials through the OS keyring --------------------------------------------------
if ! "$BIN" credentials --help >"$SCRATCH/cred-help.txt" 2>&1; then
    skip "credentials: this build has no 'flowdesk credentials' command yet (issue 6)"
elif ! command -v gnome-keyring-daemon >/dev/null 2>&1 || ! command -v dbus-run-session >/dev/null 2>&1; then
    skip "credentials: gnome-keyring / dbus-run-session not installed (apt-get install gnome-keyring dbus)"
else
    cat >"$SCRATCH/keyring-session.sh" <<'EOF'
set -u
printf 'smoke-pw' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
printf 's3cret-smoke-value' | "$1" credentials set smoke_test || exit 11
"$1" credentials list > "$2/cred-list.txt" || exit 12
grep -q smoke_test "$2/cred-list.txt" || exit 13
grep -q 's3cret-smoke-value' "$2/cred-list.txt" && exit 14   # the secret itself is never shown
"$1" credentials delete smoke_test || exit 15
"$1" credentials list > "$2/cred-list2.txt" || exit 16
grep -q 'smoke_test.*stored\|smoke_test.*yes' "$2/cred-list2.txt" && exit 17
exit 0
EOF
    timed "$SCRATCH/cred.txt" dbus-run-session -- sh "$SCRATCH/keyring-session.sh" "$BIN" "$SCRATCH"
    if [ $RC = 0 ]; then ok "credentials set/list/delete through the Secret Service (gnome-keyring) (${SECS} s)"
    else bad "credentials through the keyring (step rc $RC)"; show "$SCRATCH/cred.txt"; [ -f "$SCRATCH/cred-list.txt" ] && show "$SCRATCH/cred-list.txt"; fi
fi

echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
