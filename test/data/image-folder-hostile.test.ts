// Image folders that are broken: a class folder without images, a symbolic
// link loop, an undecodable image (named, or skipped with skipBadImages), a
// PNG header claiming 30000×30000 pixels (refused before decoding).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { data, FormatError, LimitError } from '../../lib/index.js';

const require = createRequire(import.meta.url);
const { PNG } = require('pngjs') as typeof import('pngjs');
const root = mkdtempSync(join(tmpdir(), 'convkit-imgs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const png = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 4 }), { data: Buffer.alloc(64, 200) }));
let n = 0;
function folder(classes: Record<string, Record<string, Uint8Array>>): string {
  const d = join(root, `f${n++}`);
  for (const [c, files] of Object.entries(classes)) {
    mkdirSync(join(d, c), { recursive: true });
    for (const [f, b] of Object.entries(files)) writeFileSync(join(d, c, f), b);
  }
  return d;
}

describe('hostile image folders', () => {
  it('a class folder without images is named', async () => {
    await expect(data.loadDataFile(folder({ cat: { '1.png': png }, dog: { 'notes.txt': new Uint8Array(1) } }))).rejects.toThrow(/the class folder 'dog' holds no .png or .jpg images/);
  });

  it('a symbolic link loop is named', async () => {
    const d = folder({ cat: { '1.png': png }, dog: { '1.png': png } });
    symlinkSync(join(d, 'loop'), join(d, 'loop'));
    await expect(data.loadDataFile(d)).rejects.toThrow(/loop: a loop of symbolic links/);
  });

  it('an undecodable image is named, or skipped on request', async () => {
    const d = folder({ cat: { '1.png': png, '2.png': Uint8Array.from([1, 2, 3]) }, dog: { '1.png': png } });
    await expect(data.loadDataFile(d)).rejects.toThrow(FormatError);
    await expect(data.loadDataFile(d)).rejects.toThrow(/cat\/2.png: not a readable PNG image/);
    const said: string[] = [];
    const read = await data.loadDataFile(d, { skipBadImages: true, log: (m) => said.push(m) });
    expect(read.train!.y.length).toBe(2);
    expect(said.join('\n')).toMatch(/skipped 1 unreadable image\(s\): .*2.png/);
  });

  it('a PNG header of 30000×30000 is refused before decoding', async () => {
    const huge = Uint8Array.from(png);
    const view = new DataView(huge.buffer);
    view.setUint32(16, 30000);
    view.setUint32(20, 30000);
    await expect(data.loadDataFile(folder({ cat: { '1.png': huge }, dog: { '1.png': png } }))).rejects.toThrow(LimitError);
  });
});
