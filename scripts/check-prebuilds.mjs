// prepack: a package without its prebuilt binaries would make every user
// compile (or silently run the slow reference backend), so packing refuses
// unless both Linux prebuilds are there and load-ready for their machines.
// CONVKIT_PACK_WITHOUT_PREBUILDS=1 packs anyway (a source-only package).
import { existsSync, readFileSync } from 'node:fs';

const wanted = { 'linux-x64': 62, 'linux-arm64': 183 }; // ELF e_machine: x86-64, AArch64
const problems = [];
for (const [dir, machine] of Object.entries(wanted)) {
  const file = new URL(`../prebuilds/${dir}/convkit.glibc.node`, import.meta.url);
  if (!existsSync(file)) {
    problems.push(`prebuilds/${dir}/convkit.glibc.node is missing`);
    continue;
  }
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf.readUInt16LE(18) !== machine) problems.push(`prebuilds/${dir}/convkit.glibc.node is not an ELF binary for ${dir}`);
}
if (problems.length && process.env.CONVKIT_PACK_WITHOUT_PREBUILDS !== '1') {
  console.error(`prepack: ${problems.join('; ')}.\nRun 'npm run prebuild' first (the arm64 one needs apt-get install g++-aarch64-linux-gnu), or set CONVKIT_PACK_WITHOUT_PREBUILDS=1 to pack without them.`);
  process.exit(1);
}
