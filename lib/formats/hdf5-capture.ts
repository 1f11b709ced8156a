// libhdf5 (h5wasm) kept inside the files it was asked to use. h5wasm's Node
// build reaches the real file system (NODERAWFS), so a dataset with external
// storage, or a virtual one, would make libhdf5 open and read any other local
// file that the .h5 names; and libhdf5 prints dozens of HDF5-DIAG lines for
// one bad file. A call runs with fs.openSync narrowed to the allowed files
// and with stderr caught, and says how it ended. The function stands alone
// (it names nothing outside itself): the HDF5 worker runs its source text.

/** How a libhdf5 call ended: its value, or what went wrong (libhdf5's most specific line, a file outside that it tried to open). */
export type Captured<T> = { ok: true; value: T } | { ok: false; message: string; detail?: string; outside?: string; thrown?: unknown };

export function captureLibhdf5<T>(fs: typeof import('node:fs'), resolvePath: (path: string) => string, allowed: readonly string[], call: () => T): Captured<T> {
  const { writeSync, openSync } = fs;
  const permitted = new Set(allowed.map((p) => resolvePath(p)));
  const caught: string[] = [];
  const outside: string[] = [];
  fs.writeSync = ((fd: number, buffer: string | NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fd !== 2) return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    if (typeof buffer === 'string') {
      if (caught.length < 200) caught.push(buffer);
      return Buffer.byteLength(buffer);
    }
    // The buffer is often a view of the whole WebAssembly heap: decode only the bytes written.
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
    if (caught.length < 200) caught.push(Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString());
    return length;
  }) as typeof fs.writeSync;
  fs.openSync = ((path: import('node:fs').PathLike, ...rest: unknown[]) => {
    if (!permitted.has(resolvePath(String(path)))) {
      outside.push(String(path));
      throw Object.assign(new Error(`EACCES: convkit reads only the HDF5 file itself, not '${String(path)}'`), { code: 'EACCES', errno: -13 });
    }
    return (openSync as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  try {
    const value = call();
    // h5wasm may return a buffer of whatever memory held even when libhdf5's read failed: the refused open decides.
    if (outside.length) return { ok: false, message: 'it opened another file', outside: outside[0] };
    return { ok: true, value };
  } catch (error) {
    if (outside.length) return { ok: false, message: 'it opened another file', outside: outside[0] };
    const detail = caught.join('').split('\n').map((l) => l.trim()).find((l) => /^major:|^minor:/.test(l) === false && /#\d+:/.test(l));
    return { ok: false, message: (error as Error)?.message ?? String(error), ...(detail ? { detail: detail.replace(/^#\d+:\s*\S+ line \d+ in /, '') } : {}), thrown: error };
  } finally {
    fs.writeSync = writeSync;
    fs.openSync = openSync;
  }
}
