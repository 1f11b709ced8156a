#!/usr/bin/env bash
# Builds the prebuilt binaries shipped in the package (prebuilds/<platform>-<arch>/
# convkit.glibc.node), which node-gyp-build loads at run time so that installing
# convkit compiles nothing: linux-x64 with this machine's g++, and linux-arm64
# cross-compiled with Debian's g++-aarch64-linux-gnu when it is installed
# (CONVKIT_PREBUILD_ARCHS="x64 arm64" makes a missing cross compiler an error).
# Both are N-API builds: one binary serves every Node version from 20.19 on.
#   npm run prebuild
set -euo pipefail
cd "$(dirname "$0")/.."
# Build against the running Node's own headers (no download), as npm is set up to here.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
archs="${CONVKIT_PREBUILD_ARCHS:-}"
if [ -z "$archs" ]; then
  archs="x64"
  if command -v aarch64-linux-gnu-g++ >/dev/null; then archs="arm64 x64"; else
    echo "prebuild: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu); building linux-x64 only" >&2
  fi
fi
# x64 last: node-gyp-build prefers build/Release to prebuilds/, so the tree's own build must be this machine's.
for arch in $(printf '%s\n' $archs | sort -r); do
  if [ "$arch" = arm64 ]; then
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
      PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip npx prebuildify --napi --strip --tag-libc --arch arm64
  else
    npx prebuildify --napi --strip --tag-libc --arch "$arch"
  fi
done
ls -l prebuilds/*/
