/**
 * A throwaway PostgreSQL server for tests: a fresh cluster in a temp
 * directory, on a free port, with durability switched off for speed.
 * Each call starts its own server, so test files may use it one after
 * another (or side by side) without sharing state.
 *
 * PostgreSQL refuses to run as root; as root we run initdb and the server
 * as the `postgres` OS user through `runuser`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '@tessera/core/free-port';

const run = promisify(execFile);

export interface TestPostgres {
  /** `postgresql://postgres@127.0.0.1:<port>/tessera_test` (trust auth). */
  url: string;
  port: number;
  /** The temp directory holding the cluster, socket and log; removed by stop(). */
  dir: string;
  /** Fast shutdown, then removal of the directory. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * An outage: `pg_ctl -m immediate stop` (every backend killed at once, no
   * checkpoint, as on a crash). The data directory stays; start() brings the
   * server back on the same port, running crash recovery.
   */
  crash(): Promise<void>;
  /** Starts the server again after crash(), on the same data directory and port. */
  start(): Promise<void>;
}

export interface TestPostgresOptions {
  /**
   * Keep synchronous_commit on, so that a commit is in the WAL before it is
   * acknowledged and survives crash(). Off by default for speed (fsync stays
   * off either way: only an OS crash would need it).
   */
  durable?: boolean;
}

const DATABASE = 'tessera_test';
const OS_USER = 'postgres';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const PORT_ATTEMPTS = 5;

const SETUP_HINT = 'run `npm run setup` (it installs Debian\'s postgresql package)';

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBinaries();
  const owner = process.getuid?.() === 0 ? osUser(OS_USER) : null;

  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-'));
  const data = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  const logPath = join(dir, 'server.log');
  try {
    mkdirSync(socketDir);
    if (owner) for (const p of [dir, socketDir]) chownSync(p, owner.uid, owner.gid);

    await initCluster(bin.initdb, data, owner !== null);

    // A port found free may be taken before the server binds it; try again then.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const launch = () => startServer(bin.postgres, data, port, socketDir, logPath, owner !== null, options.durable === true);
      const server = launch();
      const ready = await waitUntilReady(server, port, logPath);
      if (ready === 'ready') {
        await createDatabase(port);
        return handle(server, dir, data, port, {
          async crash() {
            const [cmd, args] = asPostgres(owner !== null, join(dirname(bin.postgres), 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
            await run(cmd, args, { timeout: STOP_TIMEOUT_MS });
          },
          async start() {
            const again = launch();
            const state = await waitUntilReady(again, port, logPath);
            if (state !== 'ready') throw new Error(`PostgreSQL did not restart (${state}); server log:\n${logTail(logPath)}`);
            return again;
          },
        });
      }
      if (ready === 'port-taken' && attempt < PORT_ATTEMPTS) continue;
      await server.stop();
      throw new Error(`PostgreSQL test server did not start (${ready}); server log:\n${logTail(logPath)}`);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The newest /usr/lib/postgresql/<version>/bin, else initdb and postgres from PATH. */
export function findPostgresBinaries(root = '/usr/lib/postgresql', path = process.env.PATH ?? ''): Binaries {
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const found = { initdb: join(root, v, 'bin', 'initdb'), postgres: join(root, v, 'bin', 'postgres') };
      if (isExecutable(found.initdb) && isExecutable(found.postgres)) return found;
    }
  }
  const initdb = onPath('initdb', path);
  const postgres = onPath('postgres', path);
  if (initdb && postgres) return { initdb, postgres };
  throw new Error(`PostgreSQL is not installed (no initdb and postgres under ${root}/*/bin or on PATH): ${SETUP_HINT}.`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, path: string): string | undefined {
  for (const d of path.split(delimiter)) {
    if (d && isExecutable(join(d, name))) return join(d, name);
  }
  return undefined;
}

function osUser(name: string): { uid: number; gid: number } {
  // /etc/passwd: name:x:uid:gid:...
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(`Running as root, PostgreSQL needs the "${name}" OS user, which does not exist: ${SETUP_HINT}.`);
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs as the postgres user when we are root, directly otherwise. */
function asPostgres(asOther: boolean, cmd: string, args: string[]): [string, string[]] {
  return asOther ? ['runuser', ['-u', OS_USER, '--', cmd, ...args]] : [cmd, args];
}

async function initCluster(initdb: string, data: string, asOther: boolean): Promise<void> {
  const [cmd, args] = asPostgres(asOther, initdb, ['-D', data, '-A', 'trust', '-U', OS_USER, '-E', 'UTF8', '--no-locale', '--no-sync']);
  try {
    await run(cmd, args, { timeout: 120_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`initdb failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
  stop(): Promise<void>;
}

function startServer(postgres: string, data: string, port: number, socketDir: string, logPath: string, asOther: boolean, durable: boolean): Server {
  const [cmd, args] = asPostgres(asOther, postgres, [
    '-D', data, '-p', String(port), '-k', socketDir, '-h', '127.0.0.1',
    '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', `synchronous_commit=${durable ? 'on' : 'off'}`,
  ]);
  const log = openSync(logPath, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  // A test that forgets stop() must not hang the runner; the exit hook cleans up.
  child.unref();
  closeSync(log); // the child holds its own copy
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let done = false;
  const stop = async (): Promise<void> => {
    if (done) return;
    done = true;
    // Signal the postmaster itself: runuser would turn our signal into
    // SIGTERM (a "smart" shutdown that waits for clients) plus a later SIGKILL.
    const pid = postmasterPid(data) ?? child.pid;
    if (child.exitCode === null && child.signalCode === null && pid !== undefined) {
      signal(pid, 'SIGINT'); // fast shutdown: ends sessions, checkpoints, exits
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        signal(pid, 'SIGKILL');
        if (child.pid !== undefined) signal(child.pid, 'SIGKILL');
        await within(exited, STOP_TIMEOUT_MS);
      }
    }
  };
  return { child, exited, stop };
}

/** The postmaster's pid, from the first line of postmaster.pid. */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Readiness = 'ready' | 'port-taken' | 'exited' | 'timed out';

async function waitUntilReady(server: Server, port: number, logPath: string): Promise<Readiness> {
  let exited = false;
  void server.exited.then(() => (exited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) return /could not bind|already in use|could not create any TCP\/IP sockets/i.test(logTail(logPath)) ? 'port-taken' : 'exited';
    try {
      await query(port, 'postgres', 'SELECT 1');
      return 'ready';
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return 'timed out';
}

async function query(port: number, database: string, sql: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: OS_USER, database, connectionTimeoutMillis: 2000 });
  // Connection errors after connect() also surface as 'error' events; keep them from crashing the process.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(port: number): Promise<void> {
  await query(port, 'postgres', `CREATE DATABASE ${DATABASE}`);
}

interface Restart {
  crash(): Promise<void>;
  start(): Promise<Server>;
}

function handle(first: Server, dir: string, data: string, port: number, restart: Restart): TestPostgres {
  let server = first;
  // If the test process ends without stop() (a crash, a forgotten stop), do not
  // leave a server and its files behind. Only synchronous work runs on 'exit'.
  const onExit = (): void => {
    const pid = postmasterPid(data);
    if (pid !== undefined) signal(pid, 'SIGKILL');
    if (server.child.pid !== undefined) signal(server.child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `postgresql://${OS_USER}@127.0.0.1:${port}/${DATABASE}`,
    port,
    dir,
    stop() {
      stopping ??= (async () => {
        process.off('exit', onExit);
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
    async crash() {
      await restart.crash();
      await server.exited;
    },
    async start() {
      server = await restart.start();
    },
  };
}

function logTail(logPath: string, lines = 30): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}
