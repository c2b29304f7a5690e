#!/usr/bin/env bash
# Fetches the pinned llama.cpp source (from node-llama-cpp's npm tarball) into
# the user cache and prints the source directory. Idempotent: a verified
# checkout is reused. Nothing is written into the repository unless
# --bundle-to DIR asks for a copy of the bundle (for the offline GPU machine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=llama.lock
. "$here/llama.lock"

cache=${RMM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rmm}
src="$cache/llama.cpp-$LLAMA_CPP_RELEASE"
bundle_to=""
bundle_from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle-to) bundle_to=$2; shift 2 ;;
    --bundle-from) bundle_from=$2; shift 2 ;;
    *) echo "fetch-llama: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "fetch-llama: $*" >&2; }

tgz="$cache/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz"
bundle="$cache/llama-$LLAMA_CPP_RELEASE.bundle"
mkdir -p "$cache"

if [ -n "$bundle_from" ]; then
  bundle=$bundle_from
elif [ ! -f "$bundle" ]; then
  if [ ! -f "$tgz" ] || ! echo "$NODE_LLAMA_CPP_SHA256  $tgz" | sha256sum -c --status; then
    log "npm pack node-llama-cpp@$NODE_LLAMA_CPP_VERSION"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-llama-cpp@$NODE_LLAMA_CPP_VERSION" >/dev/null)
    mv "$tmp/node-llama-cpp-$NODE_LLAMA_CPP_VERSION.tgz" "$tgz"
    rm -rf "$tmp"
  fi
  if ! echo "$NODE_LLAMA_CPP_SHA256  $tgz" | sha256sum -c --status; then
    log "sha256 mismatch for $tgz (expected $NODE_LLAMA_CPP_SHA256); refusing to use it"
    rm -f "$tgz"
    exit 1
  fi
  tar -xzf "$tgz" -O package/llama/gitRelease.bundle > "$bundle.part"
  mv "$bundle.part" "$bundle"
fi

if [ -n "$bundle_to" ]; then
  mkdir -p "$bundle_to"
  cp "$bundle" "$bundle_to/llama.bundle"
fi

if [ ! -f "$src/.rmm-ok" ]; then
  log "cloning $bundle into $src"
  rm -rf "$src"
  git -c advice.detachedHead=false clone -q "$bundle" "$src"
  touch "$src/.rmm-ok"
fi
echo "$src"
