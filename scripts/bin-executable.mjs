#!/usr/bin/env node
// Marks the CLI executable after tsc writes it (tsc creates files 0644): from
// a fresh clone, `npx convkit` runs dist/cli.js directly and needs the x bit.
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755);
