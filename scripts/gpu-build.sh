#!/usr/bin/env bash
# Builds rmm with CUDA on a GPU machine that has no network (the `device`
# machine): the llama.cpp bundle and the few Debian packages the build needs
# travel in .device/ (made by `scripts/fetch-llama.sh --bundle-to .device` and
# `apt-get download` of the packages named in bench/README.md). Warnings are
# not errors there: its Ubuntu GCC 13 has false positives that Debian GCC 12 lacks.
# PostgreSQL is left out there (no libpq on that host); libcurl comes from its own system.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
deps=/opt/rmm-deps
mkdir -p "$deps"
for f in .device/debs/*.deb; do dpkg -x "$f" "$deps"; done
llama_dir=$(./scripts/fetch-llama.sh --bundle-from "$root/.device/llama.bundle")
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DRMM_LLAMA_DIR="$llama_dir" \
  -DRMM_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DRMM_TESTS=OFF -DRMM_WERROR=OFF -DRMM_POSTGRES=OFF \
  -DCMAKE_PREFIX_PATH="$deps/usr" >/dev/null
# RMM_GPU_TARGETS narrows the build (the access benchmark needs no peer tools).
# shellcheck disable=SC2086
cmake --build build-cuda -j "$(nproc)" --target ${RMM_GPU_TARGETS:-rmm rmm-bench-engine rmm-bench-serve peer-tools}
