// libhdf5 reads files on a worker thread, each call with a time limit. A
// damaged file can send libhdf5 into an endless loop (the fuzzer found one),
// and WebAssembly stuck in a loop cannot be interrupted on the thread that
// runs it: on a worker it can be terminated. Calls stay synchronous for the
// reader: the request goes over a MessageChannel, the main thread waits on a
// shared flag (Atomics.wait, with the time limit) and takes the reply with
// receiveMessageOnPort. One worker serves every open file and lives as long
// as the process needs it (unref'd); after a time-out it is terminated, and
// the next open starts a fresh one. The worker runs the source text of
// serveHdf5 and captureLibhdf5, so it is the same from lib/ and from dist/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { ConvkitError, FormatError } from '../core/errors.js';
import { type Captured, captureLibhdf5 } from './hdf5-capture.js';

/** The operations the worker answers, each on an open file (its id) and a path inside it. */
export type Hdf5Op = 'open' | 'close' | 'kind' | 'keys' | 'attrNames' | 'attrMeta' | 'attrValue' | 'meta' | 'filters' | 'value';

/** The worker's side: stands alone (its source text runs in the worker), given h5wasm and the capture. */
export function serveHdf5(lib: any, capture: typeof captureLibhdf5, fs: typeof import('node:fs'), resolvePath: (p: string) => string, port: MessagePort, flag: Int32Array): void {
  const files = new Map<number, { file: any; path: string }>();
  let next = 1;
  const at = (file: any, path: string) => (path === '' || path === '/' ? file : file.get(path));
  const meta = (m: any) => ({ type: m.type, signed: m.signed, size: m.size, shape: [...(m.shape ?? [])], virtual: m.virtual_sources?.length ?? 0 });
  const ops: Record<string, (file: any, path: string, name?: string) => unknown> = {
    kind: (f, p) => { const e = at(f, p); return e instanceof lib.Group ? 'group' : e instanceof lib.Dataset ? 'dataset' : 'none'; },
    keys: (f, p) => at(f, p).keys(),
    attrNames: (f, p) => Object.keys(at(f, p).attrs),
    attrMeta: (f, p, n) => meta(at(f, p).attrs[n!].metadata),
    attrValue: (f, p, n) => at(f, p).attrs[n!].json_value,
    meta: (f, p) => meta(at(f, p).metadata),
    filters: (f, p) => at(f, p).filters.map((x: any) => ({ id: x.id, name: x.name })),
    value: (f, p) => at(f, p).value,
  };
  port.on('message', ({ op, id, path, name }: { op: string; id: number; path: string; name?: string }) => {
    let reply: Captured<unknown>;
    if (op === 'open') {
      reply = capture(fs, resolvePath, [path], () => new lib.File(path, 'r'));
      if (reply.ok) {
        files.set(next, { file: reply.value, path });
        reply = { ok: true, value: next++ };
      }
    } else {
      const open = files.get(id);
      if (!open) reply = { ok: false, message: 'the file is not open' };
      else if (op === 'close') {
        reply = capture(fs, resolvePath, [open.path], () => open.file.close());
        files.delete(id);
      } else reply = capture(fs, resolvePath, [open.path], () => ops[op](open.file, path, name));
    }
    if (!reply.ok) delete reply.thrown; // an Error of h5wasm's: its message travels, not the object
    try {
      port.postMessage(reply);
    } catch (error) {
      port.postMessage({ ok: false, message: `the reply could not be sent (${(error as Error).message})` });
    }
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** h5wasm's Node build, found on disk (its package exports it to `import` only, and the worker needs a URL). */
function h5wasmUrl(): string {
  const require = createRequire(import.meta.url);
  for (const dir of require.resolve.paths('h5wasm') ?? []) {
    const file = join(dir, 'h5wasm', 'dist', 'node', 'hdf5_hl.js');
    if (existsSync(file)) return pathToFileURL(file).href;
  }
  throw new ConvkitError('h5wasm is not installed (convkit depends on it for HDF5 files): npm install h5wasm');
}

const SOURCE = (h5wasm: string) => `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { resolve } = require('node:path');
const __name = (f) => f;
const capture = (${captureLibhdf5.toString()});
const serve = (${serveHdf5.toString()});
import(${JSON.stringify(h5wasm)}).then(async (m) => {
  await m.default.ready;
  serve(m.default, capture, fs, resolve, workerData.port, new Int32Array(workerData.flag));
}).catch((error) => {
  workerData.port.postMessage({ ok: false, message: String((error && error.message) || error) });
  const flag = new Int32Array(workerData.flag);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/** The time limit of one call (CONVKIT_HDF5_TIMEOUT_MS, default 60 s). */
function timeoutMs(): number {
  const n = Number(process.env.CONVKIT_HDF5_TIMEOUT_MS);
  return Number.isInteger(n) && n >= 100 ? n : 60_000;
}

/** The worker and the main thread's end of its channel. */
export class Libhdf5Worker {
  private static current: Libhdf5Worker | null = null;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private dead = false;

  private constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(SOURCE(h5wasmUrl()), {
      eval: true, workerData: { port: port2, flag: this.flag.buffer }, transferList: [port2],
      // Not the process's flags: under --input-type=module the source would be read as a module, without require.
      execArgv: [],
    });
    this.worker.unref();
    this.worker.on('error', () => (this.dead = true));
    this.worker.on('exit', () => (this.dead = true));
    this.wait('starting libhdf5');
    const failed = receiveMessageOnPort(this.port)?.message as { message: string } | undefined;
    if (failed) {
      this.retire();
      throw new ConvkitError(`h5wasm (libhdf5) could not start: ${failed.message}`);
    }
  }

  /** The live worker, started if there is none. */
  static get(): Libhdf5Worker {
    if (!Libhdf5Worker.current || Libhdf5Worker.current.dead) Libhdf5Worker.current = new Libhdf5Worker();
    return Libhdf5Worker.current;
  }

  private wait(what: string): void {
    const limit = timeoutMs();
    const waited = Atomics.wait(this.flag, 0, 0, limit);
    if (waited === 'timed-out') {
      this.retire();
      throw new FormatError(`${what}: libhdf5 did not finish within ${limit / 1000} s, so it was stopped; the file is damaged (or, if it is that large, raise CONVKIT_HDF5_TIMEOUT_MS)`);
    }
    Atomics.store(this.flag, 0, 0);
  }

  private retire(): void {
    this.dead = true;
    void this.worker.terminate();
    if (Libhdf5Worker.current === this) Libhdf5Worker.current = null;
  }

  /** One operation; what a failure's message starts with is `what`. */
  call(what: string, op: Hdf5Op, id: number, path = '', name?: string): unknown {
    if (this.dead) throw new FormatError(`${what}: the HDF5 reader was stopped (an earlier call on this file did not finish)`);
    this.port.postMessage({ op, id, path, name });
    this.wait(what);
    const reply = receiveMessageOnPort(this.port)?.message as Captured<unknown> | undefined;
    if (!reply) throw new FormatError(`${what}: libhdf5's worker sent no reply`);
    if (reply.ok) return reply.value;
    if (reply.outside) throw outsideError(what, reply.outside);
    // After an abort() or a trap the WebAssembly instance is not to be trusted again: the next open starts a fresh worker.
    if (/abort|unreachable|memory access out of bounds/i.test(reply.message)) this.retire();
    throw new FormatError(`${what} (${reply.message}${reply.detail ? `; libhdf5: ${reply.detail}` : ''})`);
  }
}

export const outsideError = (what: string, path: string) =>
  new FormatError(`${what}: its data lives in another file ('${path}'), through external storage or a virtual dataset; convkit reads only data stored inside the HDF5 file`);
