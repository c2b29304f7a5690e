#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (ctest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root/${RMM_BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
