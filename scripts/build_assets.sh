#!/usr/bin/env bash
# Front-end assets from the npm registry (versions pinned in package-lock.json), copied
# into src/retaguarda/web/static/vendor/ (gitignored), served as /static/vendor/<file>.
#
#   scripts/build_assets.sh           npm ci + copy, unless the vendor copy is up to date
#   scripts/build_assets.sh --check   exit 0 if the vendor copy is up to date, 1 if not
#   scripts/build_assets.sh --force   rebuild even when up to date
#
# "Up to date" = vendor/.stamp holds the sha256 of package-lock.json + this script and
# every vendor file exists. Needs node + npm (scripts/_setup.sh installs them if missing);
# also used by the Dockerfile's assets stage.
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR_DIR="src/retaguarda/web/static/vendor"
STAMP="$VENDOR_DIR/.stamp"
# destination name <- path inside node_modules
FILES=(
  "htmx.min.js:htmx.org/dist/htmx.min.js"
  "alpine.min.js:alpinejs/dist/cdn.min.js"
  "pico.min.css:@picocss/pico/css/pico.min.css"
  "signature_pad.umd.min.js:signature_pad/dist/signature_pad.umd.min.js"
)

wanted_stamp() {
  cat package-lock.json scripts/build_assets.sh | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(wanted_stamp)" ] || return 1
  local entry
  for entry in "${FILES[@]}"; do
    [ -s "$VENDOR_DIR/${entry%%:*}" ] || return 1
  done
}

case "${1:-}" in
  --check) up_to_date; exit ;;
  --force) ;;
  "") if up_to_date; then exit 0; fi ;;
  *) echo "usage: $0 [--check|--force]" >&2; exit 2 ;;
esac

echo "[assets] npm ci (package-lock.json)" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

mkdir -p "$VENDOR_DIR"
rm -f "$STAMP"
for entry in "${FILES[@]}"; do
  dest="${entry%%:*}"
  src="node_modules/${entry#*:}"
  [ -s "$src" ] || { echo "[assets] missing $src after npm ci" >&2; exit 1; }
  cp "$src" "$VENDOR_DIR/$dest"
  echo "[assets] $VENDOR_DIR/$dest <- $src" >&2
done
wanted_stamp >"$STAMP"
