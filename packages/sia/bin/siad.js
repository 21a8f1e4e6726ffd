#!/usr/bin/env node
// siad from the TypeScript sources (through tsx); the container image uses the bundle, dist/siad.mjs.
import { loadTsEntry } from '../../core/bin/ts-entry.js';

const { runProcess } = await loadTsEntry(new URL('../src/main.ts', import.meta.url).href);
await runProcess();
