#!/usr/bin/env bash
# Signs, packs and notarizes "dist/Portal Desk.app" as dist/PortalDesk-<version>.dmg (macOS only).
# Without SIGN_IDENTITY it builds an unsigned .dmg for local testing (Gatekeeper will warn).
#   SIGN_IDENTITY="Developer ID Application: Example Ltd (TEAMID1234)" NOTARY_PROFILE=portal-desk \
#     packaging/macos/make_dmg.sh 0.1.0
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-0.1.0}"
app="dist/Portal Desk.app"
dmg="dist/PortalDesk-$version.dmg"
test -d "$app" || { echo "build $app first: python -m PyInstaller packaging/portal_desk.spec" >&2; exit 1; }

if [ -n "${SIGN_IDENTITY:-}" ]; then
  # Inside out: every nested library and executable, then the bundle itself, with the hardened runtime.
  find "$app/Contents" -type f \( -name "*.so" -o -name "*.dylib" -o -perm -u+x \) -print0 |
    xargs -0 codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist \
      --sign "$SIGN_IDENTITY"
  codesign --force --timestamp --options runtime --entitlements packaging/macos/entitlements.plist \
    --sign "$SIGN_IDENTITY" "$app"
  codesign --verify --deep --strict --verbose=2 "$app"
fi

staging="$(mktemp -d)"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Portal Desk" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
rm -rf "$staging"

if [ -n "${SIGN_IDENTITY:-}" ]; then
  codesign --force --timestamp --sign "$SIGN_IDENTITY" "$dmg"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose "$dmg"
  fi
fi
echo "$dmg"
