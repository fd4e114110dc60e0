#!/usr/bin/env bash
# Make a .deb of a Flowdesk one-folder bundle with plain dpkg-deb (no debhelper, no fakeroot).
#
#   packaging/linux/make-deb.sh BUNDLE_DIR VERSION OUT_DIR [xz|xz-fast|gzip|zstd|none]
#
# Layout of the package:
#   /opt/flowdesk/                                   the bundle
#   /usr/bin/flowdesk -> /opt/flowdesk/flowdesk
#   /usr/share/applications/flowdesk.desktop         application menu entry, MimeType=
#   /usr/share/mime/packages/flowdesk.xml            application/x-flowdesk-flow = *.flow.json
#   /usr/share/icons/hicolor/{16..512}/apps/flowdesk.png, scalable/apps/flowdesk.svg
#   /usr/share/icons/hicolor/*/mimetypes/application-x-flowdesk-flow.{png,svg}
#   /usr/share/doc/flowdesk/copyright
# Depends: the system libraries Qt's xcb/wayland platform plug-ins load (they are not
# bundled); Recommends: gnome-keyring (a Secret Service for credentials).
set -euo pipefail

BUNDLE="${1:?usage: make-deb.sh BUNDLE_DIR VERSION OUT_DIR [xz|xz-fast|gzip|zstd|none]}"
VERSION="${2:?version}"
OUT="${3:?out dir}"
COMPRESSION="${4:-xz}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BRANDING="$REPO/resources/branding"
ARCH="$(dpkg --print-architecture)"
PKG="flowdesk"

[ -x "$BUNDLE/flowdesk" ] || { echo "make-deb.sh: $BUNDLE/flowdesk is not an executable bundle" >&2; exit 1; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/flowdesk-deb.XXXXXX")"
trap 'rm -rf "$ROOT"' EXIT

# --- payload ------------------------------------------------------------------------
install -d "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" \
    "$ROOT/usr/share/mime/packages" "$ROOT/usr/share/doc/$PKG" "$ROOT/DEBIAN"
cp -a "$BUNDLE" "$ROOT/opt/$PKG"
ln -s "/opt/$PKG/flowdesk" "$ROOT/usr/bin/flowdesk"
install -m 644 "$BRANDING/flowdesk.desktop" "$ROOT/usr/share/applications/flowdesk.desktop"
install -m 644 "$BRANDING/flowdesk-mime.xml" "$ROOT/usr/share/mime/packages/flowdesk.xml"
for png in "$BRANDING"/png/flowdesk-*.png; do
    size="$(basename "$png" .png)"; size="${size#flowdesk-}"
    for kind in apps mimetypes; do
        install -d "$ROOT/usr/share/icons/hicolor/${size}x${size}/$kind"
    done
    install -m 644 "$png" "$ROOT/usr/share/icons/hicolor/${size}x${size}/apps/flowdesk.png"
    install -m 644 "$png" "$ROOT/usr/share/icons/hicolor/${size}x${size}/mimetypes/application-x-flowdesk-flow.png"
done
install -d "$ROOT/usr/share/icons/hicolor/scalable/apps" "$ROOT/usr/share/icons/hicolor/scalable/mimetypes"
install -m 644 "$BRANDING/flowdesk.svg" "$ROOT/usr/share/icons/hicolor/scalable/apps/flowdesk.svg"
install -m 644 "$BRANDING/flowdesk.svg" "$ROOT/usr/share/icons/hicolor/scalable/mimetypes/application-x-flowdesk-flow.svg"
cat > "$ROOT/usr/share/doc/$PKG/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Flowdesk
Comment: /opt/flowdesk bundles Python ${PYVER:-3.11}, Qt 6 and PySide6 (LGPLv3), and the
 Python packages listed in /opt/flowdesk/_internal/*.dist-info, each under its own licence.

Files: *
License: MIT
EOF
# Files are world-readable, directories and executables 755, whatever the umask was.
chmod -R u+rwX,go+rX,go-w "$ROOT"

# --- control ------------------------------------------------------------------------
# Libraries Qt loads from the system (not bundled by PyInstaller), found on a bare
# Debian 12 one by one (shared/design/platform-notes.md, section 1):
#  QtCore/QtGui: libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
#  xcb platform: libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
#                libxcb-shape0 libxcb-xkb1 libxcb-image0 libxcb-render-util0 libxcb-randr0
#                libx11-xcb1
#  wayland platform: libwayland-client0 libwayland-cursor0 libwayland-egl1
#  C/C++ runtime: libc6 (>= the newest GLIBC_x.y symbol version any bundled ELF file
#  needs, read below), libstdc++6/libgcc-s1 (left to the system by the spec).
SYMVERS=$(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
    | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC\(XX\)\?_[0-9][0-9.]*' | sort -u || true)
GLIBC_MIN=$(echo "$SYMVERS" | sed -n 's/^GLIBC_//p' | sort -V | tail -1)
GLIBCXX_MAX=$(echo "$SYMVERS" | sed -n 's/^GLIBCXX_//p' | sort -V | tail -1)
# GLIBCXX_3.4.N -> the GCC release whose libstdc++ first has it
case "${GLIBCXX_MAX:-none}" in
    none|3.4.2[0-8]|3.4.1*|3.4.[0-9]) STDCXX="libstdc++6" ;;
    3.4.29) STDCXX="libstdc++6 (>= 11)" ;;
    3.4.30) STDCXX="libstdc++6 (>= 12)" ;;
    3.4.31|3.4.32) STDCXX="libstdc++6 (>= 13)" ;;
    *) echo "make-deb.sh: the bundle needs GLIBCXX_$GLIBCXX_MAX; add its GCC release here" >&2; exit 1 ;;
esac
echo "    needs GLIBC_${GLIBC_MIN:-?}, GLIBCXX_${GLIBCXX_MAX:-none}"
DEPENDS="libc6 (>= ${GLIBC_MIN:-2.34}), $STDCXX, libgcc-s1, libglib2.0-0, libgl1, libegl1, libxkbcommon0, libfontconfig1, libfreetype6, libdbus-1-3, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-xkb1, libxcb-image0, libxcb-render-util0, libxcb-randr0, libx11-xcb1, libwayland-client0, libwayland-cursor0, libwayland-egl1"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)"
cat > "$ROOT/DEBIAN/control" <<EOF
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: Flowdesk developers <dev@flowdesk.invalid>
Installed-Size: $INSTALLED_KB
Section: devel
Priority: optional
Depends: $DEPENDS
Recommends: gnome-keyring
Suggests: xdg-utils
Homepage: https://flowdesk.invalid/
Description: visual flow editor with an embedded workflow engine
 Flowdesk lets you build workflows visually from nodes (files, HTTP requests,
 data transforms, branches, AI calls), run them from the editor or headless
 with "flowdesk run FLOW.flow.json", and keeps credentials in the OS keyring.
 .
 This package ships a self-contained bundle (Python, Qt, PySide6) in
 /opt/flowdesk; it needs no Python on the system.
EOF

# postinst/postrm: refresh the MIME, desktop and icon caches when the tools are there.
# (On Debian these also run through dpkg triggers of shared-mime-info,
# desktop-file-utils and hicolor-icon-theme; calling them is harmless and covers
# systems where those packages come later.)
for script in postinst postrm; do
    cat > "$ROOT/DEBIAN/$script" <<'EOF'
#!/bin/sh
# Refresh the MIME, desktop-entry and icon caches, when the tools are installed.
# DPKG_ROOT is set by dpkg when it installs into another root (--root together with
# --force-script-chrootless); it is empty for a normal install.
set -e
case "$1" in
    configure|remove|purge|abort-install|abort-upgrade|abort-remove)
        root="${DPKG_ROOT:-}"
        if command -v update-mime-database >/dev/null 2>&1 && [ -d "$root/usr/share/mime/packages" ]; then
            update-mime-database "$root/usr/share/mime" || true
        fi
        if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$root/usr/share/applications" ]; then
            update-desktop-database -q "$root/usr/share/applications" || true
        fi
        if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$root/usr/share/icons/hicolor/index.theme" ]; then
            gtk-update-icon-cache -q -t -f "$root/usr/share/icons/hicolor" || true
        fi
        ;;
esac
exit 0
EOF
    chmod 755 "$ROOT/DEBIAN/$script"
done

DEB="$OUT/${PKG}_${VERSION}_${ARCH}.deb"
case "$COMPRESSION" in
    # Measured on the 131 MB bundle (2 cores), see packaging/README.md:
    xz)      ZOPT=(-Zxz -z6) ;;     # 38.7 MB, 60 s: the release default
    xz-fast) ZOPT=(-Zxz -z1) ;;     # 43.1 MB, 10 s: quicker than gzip and smaller
    gzip)    ZOPT=(-Zgzip -z9) ;;   # 52.3 MB, 16 s: over the 50 MB target
    zstd)    ZOPT=(-Zzstd -z9) ;;   # 47.3 MB,  3 s: needs dpkg >= 1.21.18 (Debian 12, Ubuntu 21.10)
    none)    ZOPT=(-Znone) ;;
    *) echo "make-deb.sh: unknown compression $COMPRESSION" >&2; exit 2 ;;
esac
dpkg-deb --root-owner-group "${ZOPT[@]}" --build "$ROOT" "$DEB" >/dev/null
echo "    $(basename "$DEB"): $(du -k "$DEB" | cut -f1) KiB ($COMPRESSION), installed size ${INSTALLED_KB} KiB"
