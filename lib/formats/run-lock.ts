// The lock that keeps a second writer out of a run directory (or a sweep's).
// The lock file names its owner's pid and host, and the owner touches it every
// few seconds. An owner on this host is alive or not (a signal 0 says); one on
// another host (a shared file system) is judged by that heartbeat: a lock
// untouched for longer than the stale limit has lost its owner. So a queue
// worker that takes over a run whose last worker vanished waits for that
// worker's process to be truly gone, even when Redis lost track of it.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConvkitError } from '../core/errors.js';

const LOCK = '.lock';
const HEARTBEAT_MS = 5_000;

/** How long a lock of another host may go untouched before it counts as abandoned. */
function staleMs(): number {
  const n = Number(process.env.CONVKIT_LOCK_STALE_MS);
  return Number.isInteger(n) && n >= 1000 ? n : 30_000;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds the directory's lock, if anyone still does: null when there is no lock or its owner is gone. */
export function runDirHolder(dir: string): { pid: number; host: string; description: string } | null {
  const path = join(dir, LOCK);
  let text: string;
  let touched: number;
  try {
    text = readFileSync(path, 'utf8');
    touched = statSync(path).mtimeMs;
  } catch {
    return null;
  }
  const [pidText, host = hostname()] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (host === hostname()) return pid !== process.pid && alive(pid) ? { pid, host, description: `another convkit process (pid ${pid})` } : null;
  const age = Date.now() - touched;
  return age < staleMs() ? { pid, host, description: `a convkit process on ${host} (pid ${pid}, its lock touched ${(age / 1000).toFixed(0)} s ago)` } : null;
}

/** Takes the directory's lock for this process; returns the release. A live owner's lock is refused, an abandoned one taken over. */
export function lockRunDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK);
  const mine = `${process.pid} ${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${mine}\n`);
      closeSync(fd);
      const heartbeat = setInterval(() => {
        try {
          const now = new Date();
          utimesSync(path, now, now);
        } catch {}
      }, HEARTBEAT_MS);
      heartbeat.unref();
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        try {
          if (readFileSync(path, 'utf8').trim() === mine) rmSync(path, { force: true });
        } catch {}
        process.off('exit', release);
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConvkitError(`${path}: cannot take the lock (${(error as NodeJS.ErrnoException).code})`);
      const holder = runDirHolder(dir);
      if (holder) throw new ConvkitError(`${dir} is being written by ${holder.description}; wait for it to finish or choose another --out`);
      rmSync(path, { force: true }); // a stale lock: its owner is gone
    }
  }
  throw new ConvkitError(`${path}: cannot take the lock`);
}
