#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer and
# runs the native test suites against it (conformance, bad input, loader,
# training step), then puts the normal addon back (CI runs this after the
# suite, so it keeps the build it had instead of compiling it again).
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
mkdir -p "$out"
kept=""
if [ -f build/Release/convkit.node ]; then kept="$out/release.node"; cp build/Release/convkit.node "$kept"; fi
restore() {
  # node-gyp's rebuild empties build/; the normal addon goes back, or is built again when there was none.
  # The instrumented build leaves build/Debug, which loads only with libasan preloaded: it goes.
  rm -rf build/Debug
  if [ -n "$kept" ]; then mkdir -p build/Release && cp "$kept" build/Release/convkit.node
  else $node_gyp rebuild >/dev/null; fi
}
trap restore EXIT
$node_gyp rebuild --debug -- -Dconvkit_sanitize=1 >/dev/null
cp build/Debug/convkit.node "$out/convkit.node"
libasan="$(g++ -print-file-name=libasan.so)"
libubsan="$(g++ -print-file-name=libubsan.so)"
status=0
LD_PRELOAD="$libasan $libubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  CONVKIT_ADDON_PATH="$PWD/$out/convkit.node" CONVKIT_BACKEND=native CONVKIT_REQUIRE_NATIVE=1 \
  npx vitest run test/native test/ops test/train/model.test.ts || status=$?
exit $status
