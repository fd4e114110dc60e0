#!/usr/bin/env bash
# Build the Linux artefacts of Flowdesk on a Debian 12 (bookworm) machine with Python 3.11:
#
#   dist/flowdesk/                               the PyInstaller one-folder bundle
#   dist/flowdesk_VERSION_amd64.deb              installs it under /opt/flowdesk
#   dist/flowdesk-VERSION-linux-x86_64.tar.gz    the bundle as a tarball
#
# Usage: packaging/build-linux.sh [--no-deb] [--no-tar] [--deb-compression xz|xz-fast|gzip|zstd]
# Environment: PYTHON (default python3.11, then python3), BUILD_VENV (default build/venv-linux).
# It makes its own venv under build/, installs the app and PyInstaller there (versions
# in packaging/constraints.txt), and apt-installs only the Debian packages that are
# missing, saying which and why. Takes 70-85 s on 2 cores (see packaging/README.md).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

MAKE_DEB=1
MAKE_TAR=1
DEB_COMPRESSION=xz
while [ $# -gt 0 ]; do
    case "$1" in
        --no-deb) MAKE_DEB=0 ;;
        --no-tar) MAKE_TAR=0 ;;
        --deb-compression) DEB_COMPRESSION="$2"; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "build-linux.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)" 2>/dev/null \
            || awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
T_START=$(now)

# --- 1. system packages ---------------------------------------------------------------
PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi

declare -a APT_NEED=()
need() {  # need PACKAGE "why"
    APT_NEED+=("$1")
    echo "    missing: $1 ($2)"
}
say "Checking build prerequisites"
command -v objdump >/dev/null 2>&1 || need binutils "PyInstaller reads ELF headers with objdump"
command -v dpkg-deb >/dev/null 2>&1 || need dpkg "dpkg-deb builds the .deb"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    # Debian 12's python3 is 3.11
    need python3 "the Python interpreter"
    need python3-venv "python -m venv with pip"
    need libpython3.11 "PyInstaller bundles the shared libpython3.11.so"
else
    PY_VER=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    # Debian's own python: venv's pip comes from pythonX.Y-venv.
    if [ "$("$PYTHON" -c 'import sys; print(sys.base_prefix)')" = /usr ] && command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Status}' "python${PY_VER}-venv" 2>/dev/null | grep -q "ok installed" \
            || need "python${PY_VER}-venv" "python -m venv with pip"
    fi
    # PyInstaller ships libpythonX.Y.so with the bundle. pyenv/python.org builds with
    # --enable-shared have it beside them; Debian's python3 links it statically and the
    # shared copy comes from the libpythonX.Y package.
    PY_SO=$("$PYTHON" -c 'import sysconfig as s; print(s.get_config_var("INSTSONAME") or "")')
    PY_LIBDIR=$("$PYTHON" -c 'import sysconfig as s; print(s.get_config_var("LIBDIR") or "")')
    if [ ! -e "$PY_LIBDIR/$PY_SO" ] && ! ldconfig -p 2>/dev/null | grep -q "libpython${PY_VER}\.so"; then
        need "libpython${PY_VER}" "PyInstaller bundles the shared libpython${PY_VER}.so"
    fi
fi
if [ ${#APT_NEED[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "build-linux.sh: please install: ${APT_NEED[*]}" >&2; exit 1; }
        SUDO=sudo
    fi
    say "apt-get install ${APT_NEED[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${APT_NEED[@]}"
else
    echo "    nothing to apt-install"
fi
"$PYTHON" - <<'EOF'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"build-linux.sh: Python >= 3.11 is needed, {sys.executable} is {sys.version.split()[0]}")
EOF

# --- 2. build venv --------------------------------------------------------------------
VENV="${BUILD_VENV:-$REPO/build/venv-linux}"
SRC="$REPO/build/src-linux"
T0=$(now)
if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the build venv $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# Install the app from a copy of the source tree: pip/setuptools write build/ and
# *.egg-info next to pyproject.toml, and the repository must stay untouched.
say "Installing Flowdesk and PyInstaller into the build venv"
rm -rf "$SRC"
mkdir -p "$SRC"
cp -r pyproject.toml setup.py flowdesk engine editor resources docs "$SRC/"   # docs: package data (Help ▸ Documentation)
for f in README.md LICENSE; do [ -e "$f" ] && cp "$f" "$SRC/"; done
[ -e "$SRC/README.md" ] || echo "# Flowdesk" > "$SRC/README.md"   # pyproject names it as readme
find "$SRC" -name __pycache__ -prune -exec rm -rf {} +
PIP_LOG="$REPO/build/pip-linux.log"
pip_install() {
    "$VENV/bin/python" -m pip install --disable-pip-version-check "$@" >>"$PIP_LOG" 2>&1 \
        || { tail -40 "$PIP_LOG" >&2; echo "build-linux.sh: pip failed, see $PIP_LOG" >&2; exit 1; }
}
: > "$PIP_LOG"
pip_install -c packaging/constraints.txt "$SRC[gui]" -r packaging/requirements-build.txt
pip_install --no-deps --force-reinstall "$SRC"   # same version number, new code
VERSION=$("$VENV/bin/python" -I -c 'import flowdesk; print(flowdesk.__version__)')
echo "    flowdesk $VERSION, $("$VENV/bin/python" -c 'import PySide6; print("PySide6", PySide6.__version__)'), $("$VENV/bin/pyinstaller" --version | sed 's/^/PyInstaller /')"
T_VENV=$(elapsed "$T0")

# --- 3. the icons (committed; regenerated only if missing) ---------------------------
if [ ! -e resources/branding/png/flowdesk-512.png ]; then
    say "Rendering the icons"
    QT_QPA_PLATFORM=offscreen "$VENV/bin/python" packaging/make_icons.py
fi

# --- 4. PyInstaller -------------------------------------------------------------------
say "PyInstaller (one-folder) -> dist/flowdesk"
T0=$(now)
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$REPO/dist" --workpath "$REPO/build/pyinstaller" packaging/flowdesk.spec
T_PYI=$(elapsed "$T0")
BUNDLE="$REPO/dist/flowdesk"
"$BUNDLE/flowdesk" --version
BUNDLE_MB=$(du -sm "$BUNDLE" | cut -f1)
BUNDLE_BYTES=$(du -sb "$BUNDLE" | cut -f1)
BUNDLE_FILES=$(find "$BUNDLE" -type f | wc -l)
echo "    bundle: ${BUNDLE_MB} MB on disk ($BUNDLE_BYTES bytes, $BUNDLE_FILES files)"

# --- 5. .deb and .tar.gz --------------------------------------------------------------
T_DEB=- ; T_TAR=-
if [ "$MAKE_DEB" = 1 ]; then
    say ".deb ($DEB_COMPRESSION)"
    T0=$(now)
    bash packaging/linux/make-deb.sh "$BUNDLE" "$VERSION" "$REPO/dist" "$DEB_COMPRESSION"
    T_DEB=$(elapsed "$T0")
fi
if [ "$MAKE_TAR" = 1 ]; then
    TARBALL="$REPO/dist/flowdesk-$VERSION-linux-x86_64.tar.gz"
    say "tar.gz -> $(basename "$TARBALL")"
    T0=$(now)
    tar -C "$REPO/dist" --owner=0 --group=0 --numeric-owner -cf - flowdesk | gzip -6 > "$TARBALL"
    T_TAR=$(elapsed "$T0")
fi

say "Done in $(elapsed "$T_START") s"
printf '    %-28s %s s\n' "venv + install" "$T_VENV" "PyInstaller" "$T_PYI" ".deb" "$T_DEB" "tar.gz" "$T_TAR"
{ ls -l "$REPO"/dist/*.deb "$REPO"/dist/*.tar.gz 2>/dev/null || true; } | awk '{printf "    %-48s %6.1f MB\n", $NF, $5/1e6}' | sed "s|$REPO/||"
printf '    %-48s %6.1f MB\n' "dist/flowdesk/ (unpacked)" "$(echo "$BUNDLE_BYTES" | awk '{print $1/1e6}')"
