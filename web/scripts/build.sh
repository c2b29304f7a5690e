#!/bin/sh
# Builds the web UI into OUT_DIR and writes it as C++ (OUT_CPP) for the rmm
# binary. Installs the locked npm packages first when the lock file changed.
#   build.sh OUT_DIR OUT_CPP
set -eu
cd "$(dirname "$0")/.."
if ! cmp -s package-lock.json node_modules/.rmm-installed-lock; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.rmm-installed-lock
fi
RMM_WEB_OUT="$1" node node_modules/vite/bin/vite.js build --logLevel warn
node scripts/embed.mjs "$1" "$2"
