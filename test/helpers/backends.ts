import { beforeAll, describe } from 'vitest';
import { loadAddon } from '../../lib/backend/native.js';
import { type BackendName, setBackend } from '../../lib/backend/select.js';

/** Why the native addon cannot be used here, or null when it can. */
export function nativeUnavailable(): string | null {
  try {
    loadAddon();
    return null;
  } catch (error) {
    if (process.env.CONVKIT_REQUIRE_NATIVE === '1') throw error;
    return (error as Error).message;
  }
}

const nativeReason = nativeUnavailable();
if (nativeReason) console.warn(`skipping native-backend tests: ${nativeReason}`);

/** The backends a suite should run on: both when the addon loads, else reference only. */
export const BACKENDS: BackendName[] = nativeReason ? ['reference'] : ['reference', 'native'];

/** Runs the same suite once per backend (TensorFlow.js's describeWithFlags(ALL_ENVS)). */
export function describeEachBackend(name: string, body: (backend: BackendName) => void): void {
  for (const backend of BACKENDS) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(() => {
        setBackend(backend);
      });
      body(backend);
    });
  }
}

/** Whether native suites should be skipped (the reason was printed above). */
export const skipNative = nativeReason !== null;
