// Hostile files: what is not a regular file is refused by name; bombs (small
// files that inflate or declare gigabytes) stop at the allocation limit, with
// the peak memory of a child process measured against it; forged or tampered
// files (overlapping or duplicated entries, bad CRCs, values that do not fit)
// are refused with a FormatError naming the file and the entry.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Adam, data, FormatError, importNpz, LimitError, loadModel, ops, saveOptimizer, writeSafetensors, zooModel, Tensor } from '../../lib/index.js';
import { loadOptimizer } from '../../lib/models/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const MiB = 2 ** 20;

describe('only regular files are read', () => {
  const fifo = join(dir, 'pipe');
  const hasFifo = spawnSync('mkfifo', [fifo]).status === 0;
  const readers: [string, (p: string) => unknown][] = [
    ['readNpy', (p) => data.readNpy(p)], ['readNpz', (p) => data.readNpz(p)], ['readIdx', (p) => data.readIdx(p)],
    ['readCsv', (p) => data.readCsv(p)], ['loadModel', (p) => loadModel(p)],
  ];
  it.each(readers)('%s refuses /dev/zero, a FIFO and a directory by what they are', (_name, read) => {
    if (existsSync('/dev/zero')) expect(() => read('/dev/zero')).toThrow(/\/dev\/zero: a character device, not a regular file/);
    if (hasFifo) expect(() => read(fifo)).toThrow(/pipe: a FIFO, not a regular file/);
  });
  it('a directory and /dev/zero given to the readers directly', () => {
    expect(() => data.readNpy(dir)).toThrow(FormatError);
    expect(() => data.readNpy(dir)).toThrow(/a directory, not a regular file/);
    expect(() => data.readIdx('/dev/zero')).toThrow(/\/dev\/zero: a character device, not a regular file/);
  });
});

/** Runs `body` (JS using `ck`) in a child process under a 64 MiB allocation limit; returns its result and how far its RSS rose. */
function inChild(body: string): { error: string; rssRiseMiB: number } {
  const script = `
    const ck = await import(${JSON.stringify(entry)});
    const fs = await import('node:fs');
    ck.setAllocationLimit(64 * 2 ** 20);
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let error = 'none';
    try { ${body} } catch (e) { error = e.name + ': ' + e.message; }
    // VmHWM: this process's own peak RSS (getrusage's maxRSS keeps the parent's peak across exec on Linux).
    const hwm = fs.readFileSync('/proc/self/status', 'utf8').split(String.fromCharCode(10)).find((l) => l.startsWith('VmHWM:'));
    const peak = parseInt(hwm.slice(6), 10) * 1024;
    console.log(JSON.stringify({ error, rssRiseMiB: (peak - before) / 2 ** 20 }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, CONVKIT_BACKEND: 'reference' } });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  if (process.env.CONVKIT_SHOW_PEAKS) console.log(`peak RSS rise ${result.rssRiseMiB.toFixed(1)} MiB: ${result.error}`);
  return result;
}

/** A .npz (zip) with one stored or deflated member, its sizes and CRC as given (forgeable). */
function zipOf(members: { name: string; data: Uint8Array; deflate?: boolean; size?: number; crc?: number }[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const body = m.deflate ? deflateRawSync(m.data) : Buffer.from(m.data);
    const name = Buffer.from(m.name);
    const crc = m.crc ?? crc32(m.data);
    const size = m.size ?? m.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(m.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(m.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe.skipIf(!existsSync('/proc/self/status'))('bombs stop at the allocation limit (64 MiB here), measured in a child process', () => {
  it('a gzip IDX that inflates to 300 MiB', () => {
    const bytes = Buffer.alloc(300 * MiB);
    bytes.set([0, 0, 8, 1]);
    bytes.writeUInt32BE(300 * MiB - 8, 4);
    const file = join(dir, 'bomb.idx.gz');
    writeFileSync(file, gzipSync(bytes, { level: 9 }));
    const r = inChild(`ck.data.readIdx(${JSON.stringify(file)});`);
    expect(r.error).toMatch(/LimitError: .*bomb.idx.gz: decompresses to more than 64.0 MiB, the allocation limit/);
    expect(r.rssRiseMiB).toBeLessThan(64 + 40);
  });

  it('an npz whose member declares 300 MiB (refused before inflating), and one that lies about its size', () => {
    const zeros = new Uint8Array(300 * MiB);
    const honest = join(dir, 'declares.npz');
    writeFileSync(honest, zipOf([{ name: 'w.npy', data: zeros, deflate: true }]));
    const a = inChild(`ck.data.readNpz(${JSON.stringify(honest)});`);
    expect(a.error).toMatch(/LimitError: .*declares.npz: the members declare 300.0 MiB uncompressed, over the allocation limit of 64.0 MiB/);
    expect(a.rssRiseMiB).toBeLessThan(64 + 40);
    const liar = join(dir, 'lies.npz');
    writeFileSync(liar, zipOf([{ name: 'w.npy', data: zeros, deflate: true, size: 1024 }]));
    const b = inChild(`ck.data.readNpz(${JSON.stringify(liar)});`);
    expect(b.error).toMatch(/FormatError: .*lies.npz:w.npy: inflates to more than its declared 1024 bytes/);
    expect(b.rssRiseMiB).toBeLessThan(64 + 40);
  });

  it('a 1 KB checkpoint whose architecture says Dense({units: 15e6})', () => {
    const model = zooModel('mlp-30');
    const file = join(dir, 'huge-arch.safetensors');
    const config = model.config();
    (config.layers[3] as unknown as { units: number }).units = 15_000_000;
    writeSafetensors(file, Object.fromEntries(model.parameters().map((p) => [p.name, { shape: [...p.value.shape], data: p.value.data }])), { format: 'convkit', architecture: JSON.stringify(config) });
    const r = inChild(`ck.loadModel(${JSON.stringify(file)});`);
    expect(r.error).toMatch(/FormatError: .*huge-arch.safetensors: the architecture's Dense 'dense_2' declares 15000000 outputs but its weights are \[30, 10\]/);
    expect(r.rssRiseMiB).toBeLessThan(40);
  });

  it('an .npy, an IDX file and a safetensors header that declare gigabytes in a few bytes', () => {
    const npy = join(dir, 'declares.npy');
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + String.fromCharCode(10);
    writeFileSync(npy, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(Uint16Array.of(padded.length).buffer), Buffer.from(padded), Buffer.alloc(16)]));
    const a = inChild(`ck.data.readNpy(${JSON.stringify(npy)});`);
    expect(a.error).toMatch(/LimitError: .*declares.npy: shape \(1000000000\) needs 3814.7 MiB, over the allocation limit/);
    expect(a.rssRiseMiB).toBeLessThan(40);
    const idx = join(dir, 'declares-idx3-ubyte');
    const head = Buffer.alloc(16);
    head.set([0, 0, 8, 3]);
    head.writeUInt32BE(1_000_000, 4);
    head.writeUInt32BE(1000, 8);
    head.writeUInt32BE(1000, 12);
    writeFileSync(idx, Buffer.concat([head, Buffer.alloc(64)]));
    const b = inChild(`ck.data.readIdx(${JSON.stringify(idx)});`);
    expect(b.error).toMatch(/LimitError: .*declares-idx3-ubyte: header claims 1000000000000 elements/);
    expect(b.rssRiseMiB).toBeLessThan(40);
    const st = join(dir, 'declares.safetensors');
    const json = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1_000_000_000], data_offsets: [0, 4_000_000_000] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(st, Buffer.concat([len, json, Buffer.alloc(16)]));
    const c = inChild(`ck.readSafetensors(${JSON.stringify(st)});`);
    expect(c.error).toMatch(/LimitError: .*declares.safetensors: tensor 'w' needs 3814.7 MiB/);
    expect(c.rssRiseMiB).toBeLessThan(40);
  });

  it('a CSV larger than the limit is refused before it is read', () => {
    const csv = join(dir, 'big.csv');
    const row = `1,${'0,'.repeat(783)}0\n`;
    writeFileSync(csv, row.repeat(Math.ceil((65 * MiB) / row.length)));
    const r = inChild(`ck.data.readCsv(${JSON.stringify(csv)});`);
    expect(r.error).toMatch(/LimitError: .*big.csv: 65.0 MiB, over the allocation limit of 64.0 MiB/);
    expect(r.rssRiseMiB).toBeLessThan(40);
  });

  it('a zero-size op with a dimension of 2^40 is refused, not looped over', () => {
    expect(() => ops.relu(new Tensor(new Float32Array(0), [2 ** 40, 0]))).toThrow(LimitError);
  });
});

describe('forged and tampered files', () => {
  it('npz: a duplicated member, a wrong CRC-32, a stored member shorter than declared', () => {
    const npy = data.encodeNpy(Float32Array.from([1, 2]), [2]);
    expect(() => data.parseNpz(zipOf([{ name: 'a.npy', data: npy }, { name: 'a.npy', data: npy }]), 'dup.npz')).toThrow(/dup.npz: the archive holds 'a.npy' twice/);
    expect(() => data.parseNpz(zipOf([{ name: 'a.npy', data: npy, crc: 12345 }]), 'crc.npz')).toThrow(/crc.npz:a.npy: CRC-32 mismatch/);
    expect(() => data.parseNpz(zipOf([{ name: 'a.npy', data: npy, size: npy.length + 4 }]), 'short.npz')).toThrow(/short.npz:a.npy: holds \d+ bytes, the directory says \d+/);
    expect(Array.from(data.parseNpz(zipOf([{ name: 'a.npy', data: npy, deflate: true }]), 'ok.npz').a.data as Float32Array)).toEqual([1, 2]);
  });

  it('importNpz: float64 weights that overflow float32 are refused, unless asked for', async () => {
    const model = zooModel('mlp-30');
    const arrays = Object.fromEntries(model.parameters().map((p) => [p.name, { data: Float64Array.from(p.value.data), shape: p.value.shape }]));
    (arrays['dense_1.weight'].data as Float64Array)[7] = 1e300;
    const file = join(dir, 'big.npz');
    writeFileSync(file, data.encodeNpz(arrays));
    await expect(importNpz(model, file)).rejects.toThrow(/big.npz: 'dense_1.weight' holds Infinity at element 7 \(1e\+300 does not fit in float32\)/);
    await importNpz(model, file, { allowNonFinite: true });
    expect(model.parameters()[0].value.data[7]).toBe(Infinity);
  });

  it('safetensors: overlapping tensors, a hole, a duplicated name', () => {
    const head = (h: object, dataBytes: number) => {
      const text = Buffer.from(JSON.stringify(h));
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(text.length));
      return Buffer.concat([prefix, text, Buffer.alloc(dataBytes)]);
    };
    const t = (begin: number, end: number) => ({ dtype: 'F32', shape: [(end - begin) / 4], data_offsets: [begin, end] });
    expect(() => loadFrom(head({ a: t(0, 8), b: t(4, 12) }, 12))).toThrow(/tensor 'b' starts at byte 4 of the data, inside the previous tensor/);
    expect(() => loadFrom(head({ a: t(0, 4) }, 8))).toThrow(/the tensors cover 4 of the 8 bytes of data/);
    const text = `{"a":${JSON.stringify(t(0, 4))},"a":${JSON.stringify(t(0, 4))}}`;
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(text.length));
    expect(() => loadFrom(Buffer.concat([prefix, Buffer.from(text), Buffer.alloc(4)]))).toThrow(/the header names 'a' twice/);
  });

  it('CSV: a fractional label column, a label past 32 bits', () => {
    expect(() => data.parseCsv('a,b,label\n1,2,3\n', { labelColumn: 1.5 }, 'f.csv')).toThrow(/f.csv: labelColumn must be a column name or a non-negative integer index, got 1.5/);
    expect(() => data.parseCsv('a,label\n1,4294967297\n', {}, 'g.csv')).toThrow(/g.csv: row 2: label '4294967297' is not a class index/);
  });

  it('optimizer state: a forged slot key is refused at load; a state for another model is refused at resume', () => {
    const run = mkdtempSync(join(tmpdir(), 'opt-'));
    const model = zooModel('mlp-30');
    const adam = new Adam();
    model.trainPass(new Tensor(new Float32Array(2 * 196), [2, 14, 14, 1]), [0, 1]);
    adam.step(model.parameters());
    saveOptimizer(adam, run);
    expect(() => loadOptimizer(run).checkStateFor(zooModel('cnn-14').parameters(), 'x')).toThrow(/x: the optimizer state is for '.*', which this model does not have; it belongs to another model/);
    const file = join(run, 'optimizer.safetensors');
    const forged = readFileSync(file, 'latin1').replace(/dense_1\.weight\.\.dense_2\.bias\/1/, 'x/4294967294'.padEnd('dense_1.weight..dense_2.bias/1'.length, ' '));
    writeFileSync(file, forged, 'latin1');
    expect(() => loadOptimizer(run)).toThrow(FormatError);
  });
});

function loadFrom(bytes: Uint8Array): unknown {
  const file = join(dir, `f${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(file, bytes);
  return loadModel(file);
}

describe('HDF5', () => {
  const python = spawnSync('/usr/bin/python3', ['-c', 'import h5py, numpy'], { encoding: 'utf8' }).status === 0;

  it('a truncated file is one FormatError, with nothing printed; an export makes its folder', () => {
    const script = `
      const ck = await import(${JSON.stringify(entry)});
      const fs = await import('node:fs');
      const m = ck.zooModel('mlp-30');
      const out = ${JSON.stringify(join(dir, 'h5', 'new', 'folder', 'w.h5'))};
      await ck.exportHdf5(m, out);
      fs.writeFileSync(out + '.cut', fs.readFileSync(out).subarray(0, 3000));
      try { await ck.importHdf5(m, out + '.cut'); } catch (e) { console.log(e.name); }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('FormatError');
    expect(r.stderr).not.toMatch(/HDF5-DIAG/);
    expect(existsSync(join(dir, 'h5', 'new', 'folder', 'w.h5'))).toBe(true);
  });

  it.skipIf(!python)('a dataset compressed with a filter convkit cannot decode (LZF) is refused, naming it', async () => {
    const { importHdf5 } = await import('../../lib/index.js');
    const file = join(dir, 'lzf.h5');
    const model = zooModel('mlp-30');
    const shapes = model.parameters().map((p) => p.value.shape);
    execFileSync('/usr/bin/python3', ['-c', `
import h5py, numpy as np
with h5py.File(${JSON.stringify(file)}, 'w') as f:
    for i, s in enumerate(${JSON.stringify(shapes)}):
        f.create_dataset(('W' if len(s) > 1 else 'b') + str(i // 2 + 1), data=np.ones(s, np.float32), compression='lzf')
`]);
    await expect(importHdf5(model, file)).rejects.toThrow(/lzf.h5: dataset 'W1' is compressed with filter 32000 \(.*\), which convkit cannot decode/);
  });
});

describe('HDF5 files cannot reach outside themselves', () => {
  it('a dataset with external storage naming another local file is refused, and that file is not read', async () => {
    const { importHdf5, sequential, layers } = await import('../../lib/index.js');
    const secret = '/tmp/convkit-hdf5-secret.bin';
    writeFileSync(secret, new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer));
    const model = sequential([new layers.Dense({ units: 2 })], { inputShape: [4] });
    const before = Float32Array.from(model.parameters()[0].value.data);
    const fixture = fileURLToPath(new URL('../fixtures/hdf5/external.h5', import.meta.url));
    await expect(importHdf5(model, fixture)).rejects.toThrow(/external.h5: cannot read 'W1': its data lives in another file \('\/tmp\/convkit-hdf5-secret.bin'\)/);
    expect(model.parameters()[0].value.data).toEqual(before);
  });

  it('a virtual dataset whose data lives in another .h5 is refused', async () => {
    const { importHdf5, sequential, layers } = await import('../../lib/index.js');
    const model = sequential([new layers.Dense({ units: 2 })], { inputShape: [4] });
    const fixture = fileURLToPath(new URL('../fixtures/hdf5/virtual.h5', import.meta.url));
    await expect(importHdf5(model, fixture)).rejects.toThrow(/virtual.h5: (dataset 'W1' is a virtual dataset|cannot read 'W1': its data lives in another file)/);
  });
});
