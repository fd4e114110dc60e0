#!/usr/bin/env bash
# Put dist/Flowdesk.app into a compressed disk image with an /Applications link.
#
#   packaging/macos/make-dmg.sh APP_PATH VERSION OUT_DIR
#
# Signing (optional, all from the environment; without them the .app keeps
# PyInstaller's ad-hoc signature and Gatekeeper asks the user to confirm on first open):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)", already in a keychain
#   MACOS_NOTARY_PROFILE  a `xcrun notarytool store-credentials` profile name
# Runs on macOS only (hdiutil, codesign, xcrun).
set -euo pipefail

APP="${1:?usage: make-dmg.sh APP_PATH VERSION OUT_DIR}"
VERSION="${2:?version}"
OUT="${3:?out dir}"
ARCH="$(uname -m)"  # arm64 or x86_64
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENTITLEMENTS="$HERE/entitlements.plist"
mkdir -p "$OUT"
DMG="$OUT/flowdesk-$VERSION-macos-$ARCH.dmg"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    echo "==> codesign (hardened runtime) with $MACOS_SIGN_IDENTITY"
    # Sign inside-out: every Mach-O in the bundle, then the .app itself.
    find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' -o -perm -u+x \) -print0 |
        while IFS= read -r -d '' f; do
            if file "$f" | grep -q 'Mach-O'; then
                codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
                    --sign "$MACOS_SIGN_IDENTITY" "$f"
            fi
        done
    codesign --force --timestamp --options runtime --entitlements "$ENTITLEMENTS" \
        --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
fi

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Flowdesk $VERSION" -srcfolder "$STAGE" -fs HFS+ \
    -format UDZO -imagekey zlib-level=9 -ov "$DMG"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
    if [ -n "${MACOS_NOTARY_PROFILE:-}" ]; then
        echo "==> notarize"
        xcrun notarytool submit "$DMG" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
        xcrun stapler staple "$DMG"
    fi
fi
echo "$DMG: $(du -k "$DMG" | cut -f1) KiB"
