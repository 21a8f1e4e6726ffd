#!/usr/bin/env node
// The `tessera` binary.
import { loadTsEntry } from '../../core/bin/ts-entry.js';

const { main } = await loadTsEntry(new URL('../src/main.ts', import.meta.url).href);
await main(process.argv);
