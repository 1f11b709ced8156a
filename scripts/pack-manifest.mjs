// prepack / postpack: the package.json inside the tarball has no `prepare`.
// In a checkout, `prepare` compiles the TypeScript, makes the MNIST sample and
// builds the addon on `npm install`; a user's install needs none of it (the
// tarball carries dist/, the sample and the prebuilds), but npm 11 lists the
// `prepare` of a package installed from a file or git as an install script
// awaiting approval. So prepack checks the prebuilds and takes `prepare` out
// (keeping the original beside it); postpack puts it back, as pinst does for
// husky's postinstall. If packing fails in between, `node scripts/pack-manifest.mjs
// restore` puts it back.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = new URL('../package.json', import.meta.url);
const saved = new URL('../package.json.prepack', import.meta.url);

if (process.argv[2] === 'strip') {
  await import('./check-prebuilds.mjs');
  if (existsSync(saved)) renameSync(saved, manifest); // a previous pack that never reached postpack
  copyFileSync(manifest, saved);
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  delete pkg.scripts.prepare;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (process.argv[2] === 'restore') {
  if (existsSync(saved)) renameSync(saved, manifest);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
