#!/usr/bin/env bash
# On the GPU machine, after scripts/gpu-build.sh: what running each model in a
# worker process costs. 1) GPU memory of a served model, worker vs in-process,
# against the planner's figure (nvidia-smi per process); 2) the serving
# benchmark, rmm serve with workers against rmm serve --in-process.
#   $1  model (default /tmp/m8b.gguf, forged when absent)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model=${1:-/tmp/m8b.gguf}
[ -f "$model" ] || ./build-cuda/rmm forge "$model" --preset 8b --type q4_k --seed 1 -q

gpu_memory() {  # $1: extra serve flag or ""
  local log pid port
  log=$(mktemp)
  # shellcheck disable=SC2086
  ./build-cuda/rmm serve --port 0 -m "$model" -c 8192 --parallel 1 --flash-attn on --no-cache \
    --database "$(mktemp -u).db" $1 2>"$log" &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$log" && break; sleep 0.1; done
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
  echo "--- ${1:-workers}: planned (bytes per device):"
  curl -s "localhost:$port/api/models/loaded" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["models"]:
    print(" ", m["id"], "worker", m["worker"], [(d["device"], d["total"]) for d in m["memory"]["devices"]])'
  echo "  nvidia-smi per process (server pid $pid):"
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader | sed 's/^/    /'
  kill -TERM "$pid"
  wait "$pid" || true
}
gpu_memory ""
gpu_memory "--in-process"

./build-cuda/rmm-bench-serve "$model" --peer in-process --clients 1,16,64 --requests-per-client 2 \
  --prompt-tokens 300 --max-tokens 256 -t 16 --gpu-layers -1 --kv-unified --flash-attn on --turn-reps 0 \
  --rounds 2
