#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` from the source node-llama-cpp ships
# (node_modules/node-llama-cpp/llama/gitRelease.bundle), offline, into a cache directory
# OUTSIDE the repository, so the e2e suites have a real OpenAI-compatible upstream.
# Idempotent: skips the build when the binary for this exact source commit already exists.
#   SOVRA_CACHE   cache root (default: $HOME/.cache/sovra); binary at $SOVRA_CACHE/llama-server/bin/llama-server
#   SOVRA_LLAMA_JOBS  parallel build jobs (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="$ROOT/node_modules/node-llama-cpp/llama/gitRelease.bundle"
CACHE="${SOVRA_CACHE:-${HOME:-/tmp}/.cache/sovra}/llama-server"
JOBS="${SOVRA_LLAMA_JOBS:-$(nproc 2>/dev/null || echo 2)}"

if [ ! -f "$BUNDLE" ]; then
  echo "llama-server: $BUNDLE not found; run npm install first (node-llama-cpp ships llama.cpp's source)" >&2
  exit 1
fi
for tool in git cmake c++ make; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git cmake g++ make >/dev/null
      break
    fi
    echo "llama-server: '$tool' is required (apt-get install git cmake g++ make)" >&2
    exit 1
  fi
done

COMMIT="$(git bundle list-heads "$BUNDLE" | awk '$2=="HEAD"{print $1}' | head -n1)"
STAMP="$CACHE/bin/.commit"
if [ -x "$CACHE/bin/llama-server" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$COMMIT" ]; then
  echo "llama-server: cached build for $COMMIT at $CACHE/bin/llama-server"
  exit 0
fi

mkdir -p "$CACHE"
SRC="$CACHE/src"
BUILD="$CACHE/build"
if [ ! -d "$SRC/.git" ] || [ "$(git -C "$SRC" rev-parse HEAD 2>/dev/null)" != "$COMMIT" ]; then
  rm -rf "$SRC"
  git -c advice.detachedHead=false clone --quiet "$BUNDLE" "$SRC"
  git -C "$SRC" -c advice.detachedHead=false checkout --quiet "$COMMIT"
fi

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=OFF >/dev/null
cmake --build "$BUILD" --target llama-server -j "$JOBS"

mkdir -p "$CACHE/bin"
cp "$BUILD/bin/llama-server" "$CACHE/bin/llama-server.tmp"
mv "$CACHE/bin/llama-server.tmp" "$CACHE/bin/llama-server"
echo "$COMMIT" > "$STAMP"
echo "llama-server: built $COMMIT at $CACHE/bin/llama-server"
