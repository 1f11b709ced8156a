// Every output a command will write, checked before any work starts: a run
// of an hour must not end in "cannot write the report". Each path must be
// creatable and writable (tried, not guessed: root passes permission checks
// that a read-only mount still refuses) and of the kind expected, outside
// the kernel's virtual file systems.
import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { UsageError } from './options.js';

/** A command's output: the flag that names it, the path, and whether it is a file or a folder. */
export interface Output {
  flag: string;
  path: string | undefined;
  kind: 'file' | 'folder';
}

const VIRTUAL = ['/proc', '/sys', '/dev'];

function kindAt(path: string): 'file' | 'folder' | 'other' | null {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'folder' : 'other';
  } catch {
    return null;
  }
}

/** Refuses, naming the flag and the path, any output that could not be written. */
export function checkOutputs(outputs: readonly Output[]): void {
  for (const { flag, path, kind } of outputs) {
    if (path === undefined) continue;
    const full = resolve(path);
    const say = (why: string) => new UsageError(`${flag} ${path}: ${why}`);
    if (VIRTUAL.some((v) => full === v || full.startsWith(`${v}${sep}`))) throw say(`${full.split(sep).slice(0, 2).join(sep)} is a virtual file system of the kernel; write outputs to a real folder`);
    const found = kindAt(full);
    if (found === 'other') throw say('is a device, FIFO or socket, not a regular file or folder');
    if (found && found !== kind) throw say(`is a ${found}; a ${kind} is expected here`);
    // The nearest folder that exists is where the output (or its folders) will be made.
    let at = kind === 'folder' && found ? full : dirname(full);
    while (kindAt(at) === null && dirname(at) !== at) at = dirname(at);
    if (kindAt(at) !== 'folder') throw say(`${at} is a file, so no folder can be made under it`);
    try {
      rmdirSync(mkdtempSync(join(at, '.convkit-write-check-')));
    } catch (error) {
      throw say(`cannot write in ${at} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
}
