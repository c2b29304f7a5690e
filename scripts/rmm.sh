#!/usr/bin/env bash
# Installs what is missing, builds, and runs `rmm` with the given arguments.
# Without arguments it runs the demo: a story from the shared TinyStories model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" >&2
bin="$root/${RMM_BUILD_DIR:-build}/rmm"
if [ $# -eq 0 ]; then
  exec "$bin" run "$root/../shared/models/stories260K.gguf" --raw --temp 0 -n 96 "Once upon a time"
fi
exec "$bin" "$@"
