#!/usr/bin/env node
// siad.
import { loadTsEntry } from '../../core/bin/ts-entry.js';

const { main } = await loadTsEntry(new URL('../src/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2), process.env, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
