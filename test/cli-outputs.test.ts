// #35 class 2: every output of a command is checked before any work starts
// (creatable, writable, of the kind expected, not in /proc, /sys or /dev),
// and the message names the flag and the path.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'convkit-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const afile = join(dir, 'a-file');
writeFileSync(afile, 'x');
const convkit = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('outputs are checked before the work', () => {
  const cases: [string, string[], RegExp][] = [
    ['a report under /proc', ['train', '--report', '/proc/convkit-report.html'], /--report \/proc\/convkit-report.html: \/proc is a virtual file system of the kernel/],
    ['TensorBoard logs under /sys', ['train', '--tensorboard', '/sys/convkit-tb'], /--tensorboard \/sys\/convkit-tb: \/sys is a virtual file system/],
    ['a run folder that is a file', ['train', '--out', afile], /--out .*a-file: is a file; a folder is expected here/],
    ['a report under a file', ['train', '--report', join(afile, 'r.html')], /--report .*r.html: .*a-file is a file, so no folder can be made under it/],
    ['an export onto a folder', ['export', '--checkpoint', afile, '--output', dir, '--format', 'onnx'], /--output .*: is a folder; a file is expected here/],
    ['predictions to a device', ['predict', '--checkpoint', afile, '--input', afile, '--csv', '/dev/full'], /--csv \/dev\/full: \/dev is a virtual file system/],
    ['a sweep under /proc', ['sweep', '--out', '/proc/convkit-sweep', '--model', 'mnist-2layer'], /--out \/proc\/convkit-sweep: \/proc is a virtual file system/],
  ];
  it.each(cases)('%s: refused at once, exit 2, naming flag and path', (_what, args, message) => {
    const r = convkit(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    // Nothing was loaded or trained first.
    expect(r.stderr).not.toMatch(/^data:|training /m);
  });
});
