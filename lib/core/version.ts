import { createRequire } from 'node:module';

/** convkit's version, from its package.json (two levels above lib/core/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
