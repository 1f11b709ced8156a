import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Native kernels use OpenMP threads of their own; one test file at a time per worker keeps runs predictable on 2 cores.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
