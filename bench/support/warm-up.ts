/**
 * Warming a server up before it is measured. V8 compiles a Node server's hot
 * code on background threads over its first few thousand requests (ZTS: about
 * 1 s of CPU, paid once per process), so a fixed, short warm-up measures a
 * server still compiling. Benchmarks measure the steady state a long-running
 * server is in instead: batches of BATCH requests until two batches in a row
 * each cost the server no less than SETTLED of the one before (at most
 * MAX_BATCHES; one such step alone can be a pause in the compiling, and with
 * several workers each sees only part of the load). A server compiled ahead of
 * time (cfssl) settles within the first three batches.
 */
import { processStats } from './process.ts';

const BATCH = 1000;
const SETTLED = 0.9;
const MAX_BATCHES = 10;

/** Runs `run(BATCH)` until the CPU per request of process `pid` (and its workers) settles; returns each batch's CPU ms per request. */
export async function warmUntilSettled(pid: number, run: (n: number) => Promise<unknown>): Promise<number[]> {
  const batches: number[] = [];
  while (batches.length < MAX_BATCHES) {
    const before = processStats(pid).cpuSeconds;
    await run(BATCH);
    batches.push(((processStats(pid).cpuSeconds - before) * 1000) / BATCH);
    const [a, b, c] = batches.slice(-3);
    if (batches.length >= 3 && b >= SETTLED * a && c >= SETTLED * b) break;
  }
  return batches;
}

/** "warm-up NAME: N requests, server CPU ms/request per 1000: a → b → c". */
export const describeWarmUp = (name: string, batches: number[]) =>
  `warm-up ${name}: ${batches.length * BATCH} requests, server CPU ms/request per ${BATCH}: ${batches.map((ms) => ms.toFixed(2)).join(' → ')}`;
