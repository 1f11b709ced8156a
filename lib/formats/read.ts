// Reading a file a user named: only a regular file, and only if it fits the
// allocation limit. /dev/zero, a FIFO or a directory is refused by name
// before a byte is read, not read until memory runs out.
import { readFileSync, statSync } from 'node:fs';
import { FormatError, LimitError } from '../core/errors.js';
import { getAllocationLimit } from '../core/limits.js';

const KIND = (s: import('node:fs').Stats) =>
  s.isDirectory() ? 'a directory' : s.isCharacterDevice() ? 'a character device' : s.isBlockDevice() ? 'a block device' : s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : 'not a regular file';

export function readFileBounded(path: string): Buffer {
  let stats: import('node:fs').Stats;
  try {
    stats = statSync(path);
  } catch (error) {
    throw new FormatError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!stats.isFile()) throw new FormatError(`${path}: ${KIND(stats)}, not a regular file; convkit reads data and weights from files`);
  const limit = getAllocationLimit();
  if (stats.size > limit) {
    throw new LimitError(`${path}: ${(stats.size / 2 ** 20).toFixed(1)} MiB, over the allocation limit of ${(limit / 2 ** 20).toFixed(1)} MiB (setAllocationLimit or CONVKIT_MAX_ALLOC_BYTES)`);
  }
  try {
    return readFileSync(path);
  } catch (error) {
    throw new FormatError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
