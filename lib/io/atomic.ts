import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ConvkitError } from '../errors.js';
import { basename, dirname, join } from 'node:path';

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
    throw error;
  }
  // Make the rename itself durable where the platform allows syncing a folder.
  try {
    const dir = openSync(dirname(path), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {}
}
