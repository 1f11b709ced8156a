// What a user sees when the addon is missing or settings are wrong: these
// run convkit (compiled, in dist/) in child processes with a given environment.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipNative } from '../helpers/backends.js';

const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

function run(env: Record<string, string>, script: string) {
  const code = `import * as ck from ${JSON.stringify(entry)};\n${script}`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, CONVKIT_BACKEND: '', CONVKIT_ISA: '', CONVKIT_NUM_THREADS: '', ...env },
    encoding: 'utf8',
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

const convolve = `
const y = ck.ops.conv2d(ck.tensor([1, 2, 3, 4], [1, 2, 2, 1]), ck.tensor([1, 1, 1, 1], [2, 2, 1, 1]));
ck.ops.relu(y);
console.log(JSON.stringify({ y: Array.from(y.data), info: ck.info() }));`;

describe('loading the native addon', () => {
  it('warns once, with the reason, and runs on the reference backend when the addon is missing', () => {
    const r = run({ CONVKIT_ADDON_PATH: '/nonexistent/convkit.node' }, convolve);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.y).toEqual([10]);
    expect(out.info.backend).toBe('reference');
    expect(out.info.nativeAvailable).toBe(false);
    const warnings = r.stderr.split('\n').filter((line) => line.includes('CONVKIT_NO_NATIVE'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/native addon could not be loaded: Cannot find module '\/nonexistent\/convkit.node'/);
    expect(warnings[0]).toMatch(/'npx convkit build' recompiles it/);
    expect(warnings[0]).toMatch(/reference backend, which is hundreds of times slower; set CONVKIT_BACKEND=reference to choose it quietly or CONVKIT_BACKEND=native to make this an error/);
  });

  it('makes a missing addon a hard error under CONVKIT_BACKEND=native', () => {
    const r = run({ CONVKIT_ADDON_PATH: '/nonexistent/convkit.node', CONVKIT_BACKEND: 'native' }, `
try { ${convolve} } catch (e) { console.log(e.name + ': ' + e.message); process.exit(3); }`);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/BackendError: the native addon could not be loaded/);
  });

  it('refuses an unknown CONVKIT_BACKEND', () => {
    const r = run({ CONVKIT_BACKEND: 'gpu' }, `try { ${convolve} } catch (e) { console.log(e.message); process.exit(3); }`);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/CONVKIT_BACKEND must be 'native', 'reference' or 'auto', got 'gpu'/);
  });

  it.skipIf(skipNative)('reports backend, ISA, threads, OpenMP and the addon path', () => {
    const r = run({ CONVKIT_BACKEND: 'native', CONVKIT_NUM_THREADS: '1' }, convolve);
    expect(r.status, r.stderr).toBe(0);
    const { info } = JSON.parse(r.stdout);
    expect(info.backend).toBe('native');
    expect(info.threads).toBe(1);
    expect(info.isa).toBe(info.supportedIsas[0]);
    expect(typeof info.openmp).toBe('boolean');
    expect(info.addonPath).toMatch(/convkit(\.glibc)?\.node$/);
    expect(info.addonSource).toBe(process.env.CONVKIT_ADDON_PATH ? 'CONVKIT_ADDON_PATH' : /[\\/]prebuilds[\\/]/.test(info.addonPath) ? 'prebuild' : 'local build');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.skipIf(skipNative)('forces an ISA with CONVKIT_ISA and refuses an unknown one', () => {
    const generic = run({ CONVKIT_BACKEND: 'native', CONVKIT_ISA: 'generic' }, convolve);
    expect(generic.status, generic.stderr).toBe(0);
    expect(JSON.parse(generic.stdout).info.isa).toBe('generic');
    const bogus = run({ CONVKIT_BACKEND: 'native', CONVKIT_ISA: 'sse9' }, `try { ${convolve} } catch (e) { console.log(e.name + ': ' + e.message); process.exit(3); }`);
    expect(bogus.status).toBe(3);
    expect(bogus.stdout).toMatch(/BackendError: CONVKIT_ISA=sse9: unknown ISA 'sse9'; expected 'avx512', 'avx2' or 'generic'/);
  });

  it('refuses a bad CONVKIT_NUM_THREADS', () => {
    const r = run({ CONVKIT_BACKEND: 'native', CONVKIT_NUM_THREADS: 'many' }, `try { ${convolve} } catch (e) { console.log(e.name + ': ' + e.message); process.exit(3); }`);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/CONVKIT_NUM_THREADS must be a positive integer, got 'many'/);
  });
});

describe('what a failed load tells the user to do', () => {
  it('names the platform and the build command when no prebuilt binary fits', async () => {
    const { remedy } = await import('../../lib/backend/native.js');
    const hint = remedy(`No native build was found for platform=${process.platform} arch=${process.arch} runtime=node abi=115 uv=1 libc=musl node=20.20.2`);
    expect(hint).toContain(`no prebuilt binary for ${process.platform}-${process.arch}${process.platform === 'linux' ? ' with musl' : ''} was found`);
    expect(hint).toContain("'npx convkit build' compiles one");
  });

  it('names the package that brings a missing runtime library', async () => {
    const { remedy } = await import('../../lib/backend/native.js');
    expect(remedy('libgomp.so.1: cannot open shared object file: No such file or directory')).toMatch(/GNU OpenMP runtime \(Debian\/Ubuntu: apt-get install libgomp1/);
    expect(remedy("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found")).toMatch(/older than the prebuilt binary needs/);
  });
});

describe.skipIf(skipNative)('settings belong to the process', () => {
  it("a worker thread shares the process's ISA and has its own thread count", () => {
    const r = run({ CONVKIT_BACKEND: 'native' }, `
const { Worker } = await import('node:worker_threads');
ck.setNumThreads(1);
ck.setIsa('generic');
const seen = await new Promise((resolve, reject) => {
  const w = new Worker(${JSON.stringify(`import(${JSON.stringify(entry)}).then(async (ck) => { ck.ops.relu(ck.tensor([1], [1])); ck.setNumThreads(3); (await import('node:worker_threads')).parentPort.postMessage(ck.info()); })`)}, { eval: true });
  w.on('message', resolve);
  w.on('error', reject);
});
const after = ck.info();
console.log(JSON.stringify({ worker: [seen.isa, seen.threads], main: [after.isa, after.threads] }));`);
    expect(r.status, r.stderr).toBe(0);
    // The ISA is the machine's; threads are per addon instance, so the worker's setNumThreads leaves the main thread's alone.
    expect(JSON.parse(r.stdout)).toEqual({ worker: ['generic', 3], main: ['generic', 1] });
  });
});
