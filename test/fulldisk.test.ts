// A real full disk: a 2 MiB tmpfs mounted in a private mount namespace
// (unshare; as root, or as a user where user namespaces are allowed), so
// nothing outlives the child. Training resumes onto the full disk and fails
// naming the file, the last generation stays loadable, and once space is
// freed the run resumes to the uninterrupted end. A predictions CSV and an
// export onto the full disk fail and leave the old CSV whole and no stray file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mnistFixture } from './helpers/mnist-fixture.js';
import { readEvents } from './helpers/tfevents.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** The unshare arguments that give a private mount namespace here, or null where there are none. */
function namespace(): string[] | null {
  for (const args of [['--mount', '--propagation', 'private'], ['--user', '--map-root-user', '--mount']]) {
    const probe = mkdtempSync(join(tmpdir(), 'probe-'));
    const r = spawnSync('unshare', [...args, 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${probe}`], { encoding: 'utf8' });
    if (r.status === 0) return args;
  }
  return null;
}

const unshare = process.platform === 'linux' ? namespace() : null;

describe.skipIf(unshare === null)('a full disk (a small tmpfs; skipped where no mount namespace can be made)', () => {
  it('fails naming the file, keeps the last generation, and resumes once there is room', () => {
    const data = mnistFixture(96);
    const mnt = mkdtempSync(join(tmpdir(), 'tmpfs-'));
    const out = mkdtempSync(join(tmpdir(), 'fulldisk-out-'));
    const common = `--data-dir ${data} --model cnn-14 --batch-size 16 --seed 5 --threads 1 --quiet`;
    const straight = join(out, 'straight');
    const ck = `"${process.execPath}" "${cli}"`;
    writeFileSync(join(out, 'old.csv'), 'ID,Label\n1,7\n');
    const script = `
      mount -t tmpfs -o size=2m tmpfs ${mnt} || exit 90
      ${ck} train ${common} --epochs 3 --out ${straight} || exit 91
      ${ck} train ${common} --epochs 1 --out ${mnt}/run || exit 92
      cp ${out}/old.csv ${mnt}/predictions.csv
      # Fill the disk but for 3 pages (12 KiB): room for the lock and a model file, not for a whole generation.
      dd if=/dev/zero of=${mnt}/room bs=4k count=3 2>/dev/null
      dd if=/dev/zero of=${mnt}/filler bs=4k 2>/dev/null; dd if=/dev/zero of=${mnt}/filler2 bs=1 2>/dev/null
      rm ${mnt}/room
      ${ck} train --resume ${mnt}/run --data-dir ${data} --epochs 3 --quiet 2> ${out}/resume-full.err; echo $? > ${out}/resume-full.rc
      ${ck} evaluate --checkpoint ${mnt}/run --data-dir ${data} --json > ${out}/evaluate.json 2> ${out}/evaluate.err; echo $? > ${out}/evaluate.rc
      dd if=/dev/zero of=${mnt}/filler3 bs=4k 2>/dev/null; dd if=/dev/zero of=${mnt}/filler4 bs=1 2>/dev/null
      ${ck} predict --checkpoint ${mnt}/run --input ${data}/t10k-images-idx3-ubyte --csv ${mnt}/predictions.csv 2> ${out}/predict.err; echo $? > ${out}/predict.rc
      ${ck} export --checkpoint ${mnt}/run --output ${mnt}/model.onnx 2> ${out}/export.err; echo $? > ${out}/export.rc
      cp ${mnt}/predictions.csv ${out}/predictions-after.csv
      ls -a ${mnt} ${mnt}/run > ${out}/listing.txt
      rm ${mnt}/filler*
      ${ck} train --resume ${mnt}/run --data-dir ${data} --epochs 3 --threads 1 --quiet 2> ${out}/resume.err || exit 93
      cp ${mnt}/run/model.safetensors ${mnt}/run/history.json ${out}/
    `;
    const r = spawnSync('unshare', [...unshare!, 'sh', '-c', script], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const read = (name: string) => readFileSync(join(out, name), 'utf8');
    expect(read('resume-full.rc').trim()).toBe('1');
    expect(read('resume-full.err')).toMatch(/convkit: ConvkitError: \S+\/run\/\S+: cannot write \(ENOSPC/);
    expect(read('evaluate.rc').trim(), read('evaluate.err')).toBe('0');
    expect(JSON.parse(read('evaluate.json')).accuracy).toBeTypeOf('number');
    expect(read('predict.rc').trim()).toBe('1');
    expect(read('predict.err')).toMatch(/predictions.csv: cannot write \(ENOSPC/);
    expect(read('predictions-after.csv')).toBe('ID,Label\n1,7\n');
    expect(read('export.rc').trim()).toBe('1');
    expect(read('export.err')).toMatch(/model.onnx: cannot write \(ENOSPC/);
    // No temporary file or staging folder is left behind.
    expect(read('listing.txt')).not.toMatch(/^(\..*\.tmp|\.gen-\d+|model\.onnx)$/m);
    expect(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(straight, 'model.safetensors')))).toBe(true);
    const history = (path: string) => {
      const h = JSON.parse(readFileSync(path, 'utf8'));
      return { ...h, epochs: h.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...rest }: Record<string, unknown>) => rest) };
    };
    expect(history(join(out, 'history.json'))).toEqual(history(join(straight, 'history.json')));
  }, 300_000);

  it('a TensorBoard flush on a full disk appends nothing, and the records go out whole once there is room', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'tmpfs-'));
    const out = mkdtempSync(join(tmpdir(), 'fulldisk-tb-'));
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const writer = `
      import { EventWriter } from ${JSON.stringify(index)};
      import { execSync } from 'node:child_process';
      import { copyFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
      const board = new EventWriter(${JSON.stringify(`${mnt}/tb`)});
      for (let step = 1; step <= 3; step++) board.scalar('train/loss', 1 / step, step);
      board.flush();
      const before = statSync(board.path).size;
      // Two pages left: the append writes part of its records before the disk is full.
      execSync('dd if=/dev/zero of=${mnt}/room bs=4k count=2 2>/dev/null; dd if=/dev/zero of=${mnt}/filler bs=4k 2>/dev/null; dd if=/dev/zero of=${mnt}/filler2 bs=1 2>/dev/null; rm ${mnt}/room');
      const png = new Uint8Array(200000).map((_, i) => (i * 7919) % 251);
      board.scalar('train/loss', 0.25, 4);
      board.image('test/images', png, 100, 100, 4);
      let error = '';
      try { board.flush(); } catch (e) { error = e.message; }
      const during = statSync(board.path).size;
      copyFileSync(board.path, ${JSON.stringify(`${out}/during`)});
      rmSync('${mnt}/filler'); rmSync('${mnt}/filler2');
      board.flush();
      copyFileSync(board.path, ${JSON.stringify(`${out}/after`)});
      writeFileSync(${JSON.stringify(`${out}/result.json`)}, JSON.stringify({ before, during, error }));
    `;
    writeFileSync(join(out, 'writer.mjs'), writer);
    const script = `mount -t tmpfs -o size=1m tmpfs ${mnt} || exit 90
      "${process.execPath}" ${out}/writer.mjs`;
    const r = spawnSync('unshare', [...unshare!, 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.error).toMatch(/events\.out\.tfevents\.\S+: cannot write \(ENOSPC/);
    expect(result.during).toBe(result.before);
    expect(readEvents(join(out, 'during')).map((e) => e.step)).toEqual([0, 1, 2, 3]);
    const after = readEvents(join(out, 'after'));
    expect(after.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 4]);
    expect(after[5].values[0].image?.png.length).toBe(200000);
  }, 120_000);
});
