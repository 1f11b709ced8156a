// Data set resolution: directory, CONVKIT_DATA, cache, a download checked by
// sha256 from a local HTTP server (never the network), and the embedded sample.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { data } from '../../lib/index.js';

const FILES = {
  trainImages: ['train-images-idx3-ubyte', data.encodeIdx([3, 28, 28], new Uint8Array(3 * 784).map((_, i) => i % 256))],
  trainLabels: ['train-labels-idx1-ubyte', data.encodeIdx([3], Uint8Array.from([1, 2, 3]))],
  testImages: ['t10k-images-idx3-ubyte', data.encodeIdx([2, 28, 28], new Uint8Array(2 * 784).fill(255))],
  testLabels: ['t10k-labels-idx1-ubyte', data.encodeIdx([2], Uint8Array.from([4, 5]))],
} as const;
const sha256 = Object.fromEntries(Object.entries(FILES).map(([k, [, bytes]]) => [k, createHash('sha256').update(bytes).digest('hex')]));

let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const [, mirror, name] = req.url!.split('/');
    const entry = Object.values(FILES).find(([file]) => `${file}.gz` === name);
    if (mirror === 'broken' || !entry) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(gzipSync(entry[1]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const quiet = { log: () => {} };
const savedEnv = process.env.CONVKIT_DATA;

describe('loadDataset', () => {
  beforeAll(() => {
    delete process.env.CONVKIT_DATA;
  });
  afterAll(() => {
    if (savedEnv !== undefined) process.env.CONVKIT_DATA = savedEnv;
  });

  it('downloads from the first mirror that answers, verifies sha256, and caches', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'cache-'));
    const ds = await data.loadDataset('mnist', { cacheDir: cache, mirrors: [`${base}/broken/`, `${base}/good/`], sha256, ...quiet });
    expect(ds.sourceKind).toBe('download');
    expect(ds.train.x.shape).toEqual([3, 28, 28, 1]);
    expect(Array.from(ds.test.y)).toEqual([4, 5]);
    expect(ds.test.x.data[0]).toBe(1);
    expect(requests.some((r) => r.startsWith('/broken/'))).toBe(true);
    const again = await data.loadDataset('mnist', { cacheDir: cache, mirrors: [`${base}/broken/`], sha256, ...quiet });
    expect(again.sourceKind).toBe('cache');
  });

  it('never keeps a download whose sha256 does not match', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'cache-'));
    const messages: string[] = [];
    const ds = await data.loadDataset('mnist', { cacheDir: cache, mirrors: [`${base}/good/`], sha256: { ...sha256, trainImages: '0'.repeat(64) }, log: (m) => messages.push(m) });
    expect(ds.sourceKind).toBe('sample');
    expect(readdirSync(join(cache, 'mnist')).filter((f) => f.startsWith('train-images'))).toEqual([]);
    expect(messages.join('\n')).toMatch(/does not match the expected 0000/);
  });

  it('falls back to the embedded 10,000-digit sample and says so', async () => {
    const messages: string[] = [];
    const ds = await data.loadDataset('mnist', { cacheDir: mkdtempSync(join(tmpdir(), 'c-')), download: false, log: (m) => messages.push(m) });
    expect(ds.sourceKind).toBe('sample');
    expect(ds.train.x.shape).toEqual([8000, 28, 28, 1]);
    expect(ds.test.y.length).toBe(2000);
    expect(messages.join('\n')).toMatch(/10,000-digit MNIST sample shipped with convkit/);
    const counts = new Array(10).fill(0);
    ds.train.y.forEach((v) => counts[v]++);
    expect(Math.min(...counts)).toBeGreaterThan(600);
  });

  it('reads an explicit directory or a subfolder named after the data set, and names the missing file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'data-'));
    mkdirSync(join(dir, 'fashion-mnist'));
    for (const [file, bytes] of Object.values(FILES)) writeFileSync(join(dir, 'fashion-mnist', file), bytes);
    const ds = await data.loadDataset('fashion-mnist', { dataDir: dir, ...quiet });
    expect(ds.source).toMatch(/Fashion-MNIST from .*fashion-mnist \(data directory\)/);
    expect(ds.classes[9]).toBe('Ankle boot');
    const partial = mkdtempSync(join(tmpdir(), 'data-'));
    writeFileSync(join(partial, 'train-images-idx3-ubyte'), FILES.trainImages[1]);
    await expect(data.loadDataset('mnist', { dataDir: partial, ...quiet })).rejects.toThrow(/MNIST is not in .*: missing .*train-labels-idx1-ubyte\[\.gz\]/);
    await expect(data.loadDataset('cifar' as never, quiet)).rejects.toThrow(/unknown data set 'cifar' \(string\); known: mnist, fashion-mnist/);
    expect(existsSync(dir)).toBe(true);
  });

  it('has no sample for Fashion-MNIST and says where it looked', async () => {
    await expect(data.loadDataset('fashion-mnist', { cacheDir: mkdtempSync(join(tmpdir(), 'c-')), download: false, ...quiet })).rejects.toThrow(/Fashion-MNIST not found: tried the cache/);
  });
});
