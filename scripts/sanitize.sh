#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer and
# runs the native test suites against it (conformance, bad input, loader,
# training step), then rebuilds the normal addon.
#   npm run test:sanitize
# Node itself is not instrumented, so libasan is preloaded; leak checking is
# off because V8 keeps allocations alive until exit on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
node_gyp="node $(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "${npm_config_node_gyp:-}" ] && node_gyp="node $npm_config_node_gyp"
# Build against the running Node's own headers (no download), as npm is set up to here.
nodedir="${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
node_gyp="$node_gyp --nodedir=$nodedir"
out=build-sanitize
$node_gyp rebuild --debug -- -Dconvkit_sanitize=1 >/dev/null
mkdir -p "$out"
cp build/Debug/convkit.node "$out/convkit.node"
$node_gyp rebuild >/dev/null
libasan="$(g++ -print-file-name=libasan.so)"
libubsan="$(g++ -print-file-name=libubsan.so)"
status=0
LD_PRELOAD="$libasan $libubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  CONVKIT_ADDON_PATH="$PWD/$out/convkit.node" CONVKIT_BACKEND=native CONVKIT_REQUIRE_NATIVE=1 \
  npx vitest run test/native test/ops test/train/model.test.ts || status=$?
exit $status
