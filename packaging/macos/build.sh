#!/usr/bin/env bash
# `make installer` on macOS (CI runs it too): freeze "dist/QA Reader.app", run its self-test, wrap it into
# dist/qa-reader-VERSION-macos-ARCH.dmg (drag the app onto Applications), then check the disk image as a
# user gets it: mount it, copy the app out, run the copy's self-test.
#
# The app is not signed: before giving it to people, sign it with a Developer ID and notarise the .dmg
# (codesign --deep --options runtime, xcrun notarytool submit, xcrun stapler staple), or Gatekeeper blocks it.
# Environment: PYTHON (default python3.11).
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { printf 'build: %s\n' "$*" >&2; exit 1; }

bash packaging/freeze.sh
version="$("${PYTHON:-python3.11}" packaging/contents.py version)"
app="dist/QA Reader.app"
"$app/Contents/MacOS/qa-reader" --self-test || fail "the frozen self-test failed"

staging=build/dmg
rm -rf "$staging"
mkdir -p "$staging"
ditto "$app" "$staging/QA Reader.app"
ln -s /Applications "$staging/Applications"
dmg="dist/qa-reader-$version-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -quiet -volname "QA Reader" -srcfolder "$staging" -fs HFS+ -format UDZO "$dmg"
echo "built $dmg ($(du -h "$dmg" | cut -f1))"

# As a user gets it: open the disk image, copy the app out of it, run the copy.
mount_point="$(mktemp -d)"
installed="$(mktemp -d)"
hdiutil attach -quiet -nobrowse -readonly -mountpoint "$mount_point" "$dmg"
ditto "$mount_point/QA Reader.app" "$installed/QA Reader.app"
hdiutil detach -quiet "$mount_point"
"$installed/QA Reader.app/Contents/MacOS/qa-reader" --self-test || fail "the self-test of the copied app failed"
rm -rf "$installed"
echo "mounted $dmg, copied the app out and self-tested it"
