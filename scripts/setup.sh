#!/usr/bin/env bash
# Installs what is missing (Debian packages), fetches the pinned llama.cpp
# source into the user cache and builds everything into build/ (ccache makes
# rebuilds cheap). Safe to run again: each step skips what is already done.
#   RMM_BUILD_DIR   build directory (default: build)
#   RMM_CUDA=1      build llama.cpp's CUDA backend (GPU machines)
#   RMM_CMAKE_ARGS  extra CMake arguments
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

packages=(
  build-essential cmake ninja-build ccache git pkg-config
  ca-certificates
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost1.81-dev libtomlplusplus-dev
  libsqlite3-dev libpqxx-dev postgresql-15
  libcurl4-openssl-dev
  clang libclang-rt-14-dev python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (its npm bundled); Debian's packages only when missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

llama_dir=$("$root/scripts/fetch-llama.sh")

build=${RMM_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rmm/ccache}
cuda=OFF
[ "${RMM_CUDA:-0}" = 1 ] && cuda=ON
# shellcheck disable=SC2086
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRMM_LLAMA_DIR="$llama_dir" -DRMM_CUDA="$cuda" \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  ${RMM_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
