import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ConvkitError } from '../core/errors.js';
import { basename, dirname, join } from 'node:path';

/** A value as the JSON files of a run or sweep hold it: indented, ending in a newline. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes bytes so that path holds either its old content or all of the new:
 * a temporary file in the same folder, fsync, then rename over the target.
 */
export function writeFileAtomic(path: string, chunks: Uint8Array | Uint8Array[], hooks: { beforeRename?: () => void } = {}): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(temp, 'w');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ConvkitError(`${path}: cannot write (${e.code ?? e.message})`);
  }
  try {
    for (const chunk of Array.isArray(chunks) ? chunks : [chunks]) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
    }
    fsyncSync(fd);
    closeSync(fd);
    hooks.beforeRename?.();
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(temp, { force: true });
    const e = error as NodeJS.ErrnoException;
    // A full disk or an I/O error names the file being written; a hook's own error passes through.
    if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) throw new ConvkitError(`${path}: cannot write (${e.code}: ${e.message.replace(/^E[A-Z]+: /, '')})`);
    throw error;
  }
  fsyncDir(dirname(path));
}

/** Makes renames in a folder durable, where the platform allows syncing a folder. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {}
}
