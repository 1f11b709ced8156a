// Who holds a run directory (run-lock.ts): on this host a live pid holds it and
// a dead one does not; another host's lock holds it while its heartbeat is
// fresh and is taken over once it is stale. A sweep worker that is handed a
// run a live process still writes waits on exactly this.
import { spawn } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockRunDir, runDirHolder } from '../../lib/formats/run-lock.js';

const lockOf = (dir: string, text: string, ageMs = 0) => {
  const path = join(dir, '.lock');
  writeFileSync(path, text);
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
};

describe('run directory locks', () => {
  const stale = process.env.CONVKIT_LOCK_STALE_MS;
  afterEach(() => {
    if (stale === undefined) delete process.env.CONVKIT_LOCK_STALE_MS;
    else process.env.CONVKIT_LOCK_STALE_MS = stale;
  });

  it('a live process of this host holds the lock, and a second writer is refused naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      lockOf(dir, `${sleeper.pid} ${hostname()}\n`);
      expect(runDirHolder(dir)).toMatchObject({ pid: sleeper.pid, host: hostname() });
      expect(() => lockRunDir(dir)).toThrow(new RegExp(`being written by another convkit process \\(pid ${sleeper.pid}\\)`));
    } finally {
      sleeper.kill('SIGKILL');
    }
    await new Promise((r) => sleeper.once('exit', r));
    expect(runDirHolder(dir)).toBeNull();
    const release = lockRunDir(dir); // the dead owner's lock is taken over
    expect(runDirHolder(dir)).toBeNull(); // this process's own lock does not hold it against itself
    release();
  });

  it("another host's lock holds while it is fresh and is taken over once stale", () => {
    process.env.CONVKIT_LOCK_STALE_MS = '5000';
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    lockOf(dir, '4242 some-other-host\n', 1000);
    expect(runDirHolder(dir)?.description).toMatch(/a convkit process on some-other-host \(pid 4242, its lock touched 1 s ago\)/);
    expect(() => lockRunDir(dir)).toThrow(/being written by a convkit process on some-other-host/);
    lockOf(dir, '4242 some-other-host\n', 6000);
    expect(runDirHolder(dir)).toBeNull();
    lockRunDir(dir)();
  });

  it('a lock file that names no process holds nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    for (const text of ['', 'garbage', '-3 host', '0']) {
      lockOf(dir, text);
      expect(runDirHolder(dir), JSON.stringify(text)).toBeNull();
    }
  });
});
