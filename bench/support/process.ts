/** What the benchmarks read about the processes they measure, and how they start them. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The compiled server (as production runs it), built first when missing. */
export function serverBundle(): string {
  const bundle = join(ROOT, 'packages/server/dist/tessera.mjs');
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(ROOT, 'packages/server/build.mjs')], { stdio: 'inherit' });
  return bundle;
}

/**
 * The server as `npm start` runs it: the node options of package.json's start
 * script (none today), then the compiled server.
 * BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", go first (to profile it).
 */
export function productionStart(): string[] {
  const words = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/);
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return [...extra, ...words.slice(1, words.findIndex((w) => w.endsWith('tessera.mjs'))), serverBundle()];
}

export interface ProcessStats {
  rssMb: number;
  peakRssMb: number;
  cpuSeconds: number;
}

/** The pids a process started (its worker processes), from /proc/<pid>/task/<tid>/children. */
function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return []; // the process is gone
  }
}

/**
 * Memory (MB) and CPU time (user + system, seconds) of a process and every
 * process below it (`tessera serve --workers N` is a primary and N workers),
 * from /proc.
 */
export function processStats(pid: number): ProcessStats {
  const own = oneProcess(pid);
  for (const child of childPids(pid)) {
    const c = processStats(child);
    own.rssMb += c.rssMb;
    own.peakRssMb += c.peakRssMb;
    own.cpuSeconds += c.cpuSeconds;
  }
  return own;
}

function oneProcess(pid: number): ProcessStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): user and system time in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** Starts a program and resolves once `ready` matches its output. */
export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve({ child, out: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`)));
  });
}

/** Resolves once every worker of a server has polled the store (each polls every second): they all see what was just written. */
export const afterOnePoll = (): Promise<void> => new Promise((r) => setTimeout(r, 1500));
