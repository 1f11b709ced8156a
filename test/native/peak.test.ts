// measurePeak: the multiply-add throughput of the current ISA on the current
// threads, for benchmarks to quote percentages against. No timing is asserted,
// only that it measures what it says (ISA and threads) and gives a finite rate.
import { afterAll, describe, expect, it } from 'vitest';
import { getNumThreads, info, measurePeak, setNumThreads } from '../../lib/index.js';
import { skipNative } from '../helpers/backends.js';

describe.skipIf(skipNative)('measurePeak', () => {
  const threads = skipNative ? 1 : getNumThreads();
  afterAll(() => setNumThreads(threads));

  it('reports the ISA in use, the thread count and a positive finite GFLOP/s', () => {
    setNumThreads(1);
    const one = measurePeak();
    expect(one.threads).toBe(1);
    expect(one.isa).toBe(info().isa);
    expect(Number.isFinite(one.gflops) && one.gflops > 0).toBe(true);
    // 2 flops per lane per chain: the widest vectors of the ISA times the chains that cover the FMA latency.
    expect(one.flopsPerIteration).toBe({ avx512: 2 * 16 * 16, avx2: 2 * 8 * 12, generic: 2 * 4 * 8 }[one.isa as 'avx512' | 'avx2' | 'generic']);
  });
});
