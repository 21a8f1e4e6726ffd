#!/usr/bin/env node
// zms-cli.
import { loadTsEntry } from '../../core/bin/ts-entry.js';

const { main } = await loadTsEntry(new URL('../src/main.ts', import.meta.url).href);
process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
