#!/usr/bin/env bash
# The Rive runtime flet-web 1.0.5's client asks for (see canvass/staff/web_assets.py), from the
# npm registry with npm's own integrity check, into assets/web/rive/ (or $CANVASS_RIVE_DIR),
# so the staff page serves it itself. The version is the one compiled into flet-web's client.
set -euo pipefail
VERSION=44.0.0
DEST="${CANVASS_RIVE_DIR:-$(cd "$(dirname "$0")/.." && pwd)/assets/web/rive}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "@rive-app/flutter-native-wasm@$VERSION" >/dev/null)
mkdir -p "$DEST"
tar -xzf "$WORK"/rive-app-flutter-native-wasm-"$VERSION".tgz -C "$WORK"
cp -r "$WORK"/package/wasm "$WORK"/package/wasm_compatibility "$DEST"/
echo "Rive runtime $VERSION in $DEST"
