#!/usr/bin/env bash
# On the GPU machine, after scripts/gpu-build.sh: what API keys, rate limits
# and the audit log cost. rmm serve requiring a key (made with `rmm keys
# create`), with request and token limits far above the load (so that every
# check runs and none refuses) and the audit log on, against rmm serve without
# keys, limits and audit log (`--peer open`), 64 streaming clients.
#   $1  model (default /tmp/m8b.gguf, forged when absent)
#   $2  rounds (default 2)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
model=${1:-/tmp/m8b.gguf}
[ -f "$model" ] || ./build-cuda/rmm forge "$model" --preset 8b --type q4_k --seed 1 -q
./build-cuda/rmm-bench-serve "$model" --peer open --clients 16,64 --requests-per-client 2 \
  --prompt-tokens 300 --max-tokens 256 -t 16 --gpu-layers -1 --kv-unified --flash-attn on --turn-reps 0 \
  --rounds "${2:-2}"
