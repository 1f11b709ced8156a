#!/usr/bin/env bash
# Prints the path of a Node binary of the given major version and architecture
# (default x64): this machine's own node when it is that version, else the npm
# registry's node-linux-<arch>@<major> package, installed once under
# $CONVKIT_TOOLS_DIR (default ~/.cache/convkit-tools). Nothing is fetched from
# anywhere but the npm registry.
#   scripts/node-binary.sh 24          scripts/node-binary.sh 22 arm64
set -euo pipefail
major="$1"
arch="${2:-x64}"
if [ "$arch" = x64 ] && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  command -v node
  exit 0
fi
dir="${CONVKIT_TOOLS_DIR:-$HOME/.cache/convkit-tools}/node-$arch-$major"
bin="$dir/node_modules/node-linux-$arch/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --silent --no-save --no-audit --no-fund --ignore-scripts --force --cpu="$arch" --os=linux --prefix "$dir" "node-linux-$arch@$major" >/dev/null
fi
echo "$bin"
