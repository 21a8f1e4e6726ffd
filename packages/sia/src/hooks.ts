/**
 * Hooks, as Athenz's SIA runs them: `run_after` once files were written,
 * `run_after_certs_err` with the names that failed, `run_after_tokens` and
 * `run_after_tokens_err` for access tokens. The first word must be an
 * absolute path; no shell. Tessera adds the written paths in the hook's
 * environment (SIAD_CHANGED_FILES, one per line) and a time limit: a hook
 * still running then is killed with its whole process group. A hook never
 * stops siad; each run is logged when it fails and counted.
 *
 * Runs never overlap (Athenz runs them one by one in its loop): a run asked
 * for while another is going waits for it, and what is asked for meanwhile
 * is merged into that one waiting run (its paths added), so two reloads of
 * the workload never race and a hook slower than the writes never piles up.
 */
import { isAbsolute } from 'node:path';

export type HookName = 'run_after' | 'run_after_certs_err' | 'run_after_tokens' | 'run_after_tokens_err';
export type HookResult = 'ok' | 'failed' | 'timeout' | 'skipped';

/** The variable that lists the files a run wrote, one path per line. */
export const CHANGED_FILES_VAR = 'SIAD_CHANGED_FILES';

/** Stderr kept for the log line of a failed hook. */
const STDERR_LIMIT = 2_000;

export interface HookSettings {
  runAfter?: string;
  runAfterCertsErr?: string;
  runAfterTokens?: string;
  runAfterTokensErr?: string;
  runAfterTimeoutSeconds: number;
}

export interface HookDeps {
  log: (line: string) => void;
  /** The environment hooks inherit (siad's own). */
  env: Record<string, string | undefined>;
  /** Told each run's outcome (the daemon counts them for /metrics). */
  onResult?: (hook: HookName, result: HookResult) => void;
  /** Stops (kills) hooks still running when siad stops. */
  signal?: AbortSignal;
}

/** `/usr/bin/x "a b" c` → words; quotes group, as Athenz's split does. */
export function hookWords(command: string): string[] {
  return command.match(/"[^"]*"|'[^']*'|\S+/g)?.map((w) => w.replace(/^(["'])(.*)\1$/, '$2')) ?? [];
}

/** A run waiting for the one before it: later requests add their paths (and replace the arguments: the latest failure). */
interface Waiting {
  extra: string[];
  files: Set<string>;
  result: Promise<HookResult>;
}

export class Hooks {
  /** The last run started or queued (of any hook). */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly waiting = new Map<HookName, Waiting>();

  constructor(private readonly s: HookSettings, private readonly deps: HookDeps) {}

  /** After certificates or keys were written. */
  afterCerts(files: string[]): Promise<HookResult> {
    return files.length === 0 ? Promise.resolve('skipped') : this.run('run_after', this.s.runAfter, [], files);
  }

  /** After certificates failed: their names, comma-separated, as the last argument (Athenz). */
  certsFailed(names: string[]): Promise<HookResult> {
    return this.run('run_after_certs_err', this.s.runAfterCertsErr, [names.join(',')], []);
  }

  afterTokens(files: string[]): Promise<HookResult> {
    return files.length === 0 ? Promise.resolve('skipped') : this.run('run_after_tokens', this.s.runAfterTokens, [], files);
  }

  /** After tokens failed: the error text as the last argument (Athenz). */
  tokensFailed(error: string): Promise<HookResult> {
    return this.run('run_after_tokens_err', this.s.runAfterTokensErr, [error], []);
  }

  private run(hook: HookName, command: string | undefined, extra: string[], files: string[]): Promise<HookResult> {
    if (!command) return Promise.resolve('skipped');
    const words = hookWords(command);
    if (words.length === 0 || !isAbsolute(words[0])) {
      this.deps.log(`${hook} "${command}" skipped: its first word must be an absolute path`);
      return Promise.resolve(this.done(hook, 'skipped'));
    }
    const queued = this.waiting.get(hook);
    if (queued) {
      for (const f of files) queued.files.add(f);
      queued.extra = extra;
      return queued.result;
    }
    const w: Waiting = { extra, files: new Set(files), result: Promise.resolve('skipped') };
    w.result = this.tail.then(() => {
      this.waiting.delete(hook);
      // siad is stopping: what waited does not start.
      return this.deps.signal?.aborted ? 'skipped' : this.start(hook, words, w.extra, [...w.files]);
    });
    this.waiting.set(hook, w);
    this.tail = w.result.catch(() => undefined);
    return w.result;
  }

  private async start(hook: HookName, words: string[], extra: string[], files: string[]): Promise<HookResult> {
    const timeoutMs = this.s.runAfterTimeoutSeconds * 1000;
    // Loaded with the first run: node:child_process brings node:net and node:dgram, which a daemon without hooks never needs.
    const { spawn } = await import('node:child_process');
    return new Promise((resolve) => {
      const child = spawn(words[0], [...words.slice(1), ...extra], {
        env: { ...this.deps.env, [CHANGED_FILES_VAR]: files.join('\n') },
        stdio: ['ignore', 'ignore', 'pipe'],
        // Its own process group, so that the time limit ends whatever it started too.
        detached: true,
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < STDERR_LIMIT) stderr += d.toString('utf8');
      });
      let timedOut = false;
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      this.deps.signal?.addEventListener('abort', kill, { once: true });
      let finished = false;
      const finish = (result: HookResult, why?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.deps.signal?.removeEventListener('abort', kill);
        if (why) this.deps.log(`${hook} ${words[0]} ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, STDERR_LIMIT)}` : ''}`);
        resolve(this.done(hook, result));
      };
      child.on('error', (e) => finish('failed', `failed to start: ${e.message}`));
      // 'exit', not 'close': a grandchild that keeps stderr open must not hold siad's bookkeeping.
      child.on('exit', (code, sig) => {
        if (timedOut) finish('timeout', `was killed after ${this.s.runAfterTimeoutSeconds}s (run_after_timeout)`);
        else if (code === 0) finish('ok');
        else finish('failed', `failed (${code !== null ? `exit status ${code}` : `signal ${sig}`})`);
        child.stderr.destroy();
      });
    });
  }

  private done(hook: HookName, result: HookResult): HookResult {
    this.deps.onResult?.(hook, result);
    return result;
  }
}
