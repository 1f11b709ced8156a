// A run directory saved as one transaction. Each save is a generation: its
// files are written (and fsynced) into .gen-N/, then checkpoint.json (the
// manifest: the generation and the sha256 of every file) is replaced
// atomically — the commit point — and only then are the files renamed into
// the directory under their usual names. A reader first completes an
// interrupted publish, then checks every file against the manifest, so it
// sees one whole generation or refuses. run-lock.ts keeps a second writer out.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConvkitError, FormatError } from '../core/errors.js';
import { fsyncDir, writeFileAtomic } from './atomic.js';

export const MANIFEST = 'checkpoint.json';

interface Manifest {
  format: 'convkit-run';
  generation: number;
  files: Record<string, string>;
}

// Fault injection for the crash tests: CONVKIT_FAULT_AT=k kills the process
// (SIGKILL) at the k-th write or rename of a save; k:ENOSPC throws a full-disk error there instead;
// k:WORKER kills the parent first (a sweep worker dying with its run in the middle of a save).
let faultStep = 0;
const FAULT = (() => {
  const spec = process.env.CONVKIT_FAULT_AT;
  if (!spec) return null;
  const [at, kind] = spec.split(':');
  return { at: Number(at), kind: kind ?? 'KILL' };
})();

function faultPoint(what: string): void {
  if (!FAULT || ++faultStep !== FAULT.at) return;
  if (FAULT.kind === 'ENOSPC') throw new ConvkitError(`${what}: cannot write (ENOSPC: no space left on device)`);
  if (FAULT.kind === 'WORKER') process.kill(process.ppid, 'SIGKILL');
  process.kill(process.pid, 'SIGKILL');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return null;
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FormatError(`${path}: not a valid manifest (${(error as Error).message})`);
  }
  if (m?.format !== 'convkit-run' || !Number.isInteger(m.generation) || m.generation < 1 || !m.files || typeof m.files !== 'object') {
    throw new FormatError(`${path}: not a convkit run manifest`);
  }
  for (const name of Object.keys(m.files)) if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new FormatError(`${path}: bad file name '${name}'`);
  return m;
}

/** Whether a directory holds a run (a manifest, or the files of a run saved before manifests). */
export function holdsRun(dir: string): boolean {
  return existsSync(join(dir, MANIFEST)) || existsSync(join(dir, 'run.json'));
}

/**
 * Saves one generation of a run's files; returns its number. Throws (naming
 * the file) on a write error, leaving the previous generation as it was.
 */
export function saveGeneration(dir: string, files: Record<string, Uint8Array>): number {
  mkdirSync(dir, { recursive: true });
  const previous = recoverRunDir(dir);
  const generation = (previous?.generation ?? 0) + 1;
  const staging = join(dir, `.gen-${generation}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const hashes: Record<string, string> = {};
  try {
    for (const [name, bytes] of Object.entries(files)) {
      faultPoint(join(staging, name));
      writeFileAtomic(join(staging, name), bytes);
      hashes[name] = sha256(bytes);
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true }); // nothing of a generation that failed before its commit stays
    throw error;
  }
  fsyncDir(staging);
  const manifest: Manifest = { format: 'convkit-run', generation, files: hashes };
  faultPoint(join(dir, MANIFEST));
  writeFileAtomic(join(dir, MANIFEST), new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  publish(dir, manifest);
  return generation;
}

/** Moves a committed generation's files from .gen-N/ to their names, and drops older staging folders. */
function publish(dir: string, manifest: Manifest): void {
  const staging = join(dir, `.gen-${manifest.generation}`);
  for (const name of Object.keys(manifest.files)) {
    if (!existsSync(join(staging, name))) continue;
    faultPoint(join(dir, name));
    renameSync(join(staging, name), join(dir, name));
  }
  fsyncDir(dir);
  for (const entry of readdirSync(dir)) if (/^\.gen-\d+$/.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/**
 * Makes the directory hold exactly its last committed generation: finishes a
 * publish a crash interrupted, then checks every file against the manifest.
 * Returns the manifest, or null for a directory without one.
 */
export function recoverRunDir(dir: string): Manifest | null {
  const manifest = readManifest(dir);
  if (!manifest) return null;
  publish(dir, manifest);
  for (const [name, hash] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new FormatError(`${dir}: ${name} of generation ${manifest.generation} is missing; the run directory is damaged`);
    if (sha256(readFileSync(path)) !== hash) {
      throw new FormatError(`${dir}: ${name} does not match generation ${manifest.generation} of ${MANIFEST}; its files disagree (changed by hand, or by another program)`);
    }
  }
  return manifest;
}

/** Removes a run's files (for --overwrite), the manifest first so that nothing half-removed looks like a run. */
export function clearRun(dir: string, names: readonly string[]): void {
  rmSync(join(dir, MANIFEST), { force: true });
  for (const name of names) rmSync(join(dir, name), { force: true });
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) if (/^\.gen-\d+$/.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
}
