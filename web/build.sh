#!/bin/sh
# Builds the portal's bundle from web/src into internal/portal/assets
# (app.js, app.css) and records the hash of the sources it was built from
# in internal/portal/assets/SOURCES.sha256. The bundle is committed, so
# building Tether needs no npm; internal/portal's TestBundleUpToDate fails
# when the sources changed and this script was not run.
#
#   cd web && npm ci && sh build.sh
set -eu
cd "$(dirname "$0")"
out=../internal/portal/assets
[ -x node_modules/.bin/esbuild ] || npm ci --no-audit --no-fund
node_modules/.bin/esbuild src/main.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=eof --outfile="$out/app.js" --log-level=warning
# The hash covers what decides the bundle: the sources, the lockfile and
# this script. Each line is "sha256  path", as sha256sum prints it.
{ find src -type f; echo package-lock.json; echo build.sh; } | LC_ALL=C sort | while read -r f; do
  sha256sum "$f"
done > "$out/SOURCES.sha256"
echo "built $out/app.js ($(wc -c < "$out/app.js") bytes) and app.css ($(wc -c < "$out/app.css") bytes)"
