/**
 * `tessera serve` as a child process (the real binary), for tests that need
 * to see the process itself: that it survives a database outage, what a
 * `kill -9` leaves behind, several workers. Ports are chosen free up front.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { ADMIN_PASSWORD } from './test-server.ts';

const BIN = new URL('../../bin/tessera.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 120_000;

export interface ServeProcess {
  child: ChildProcess;
  zmsUrl: string;
  ztsUrl: string;
  ca: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Whether it is still running. */
  alive(): boolean;
  /** Logs in as the admin and calls ZMS with the token. */
  admin(): Promise<(method: string, path: string, body?: unknown) => Promise<HttpsResponse<{ code?: number; message?: string }>>>;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (kill -9) and wait. */
  kill(): Promise<void>;
}

/** @param ports the ports to listen on (to start a replica again where a load balancer expects it); free ones by default */
export async function startServeProcess(dataDir: string, flags: string[] = [], env: Record<string, string> = {}, ports?: { zms: number; zts: number }): Promise<ServeProcess> {
  const zmsPort = ports?.zms ?? (await freePort());
  const ztsPort = ports?.zts ?? (await freePort());
  const args = [BIN, 'serve', '--data-dir', dataDir, '--zms-port', String(zmsPort), '--zts-port', String(ztsPort), '--log-level', 'warn', ...flags];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/^ {2}Store {5}\S/m.test(out)) {
    if (!running) throw new Error(`tessera serve exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tessera serve did not start within ${START_TIMEOUT_MS} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const zmsUrl = /ZMS API\s+(\S+)/.exec(out)![1];
  const ztsUrl = /ZTS API\s+(\S+)/.exec(out)![1];
  const ca = readFileSync(join(dataDir, 'ca.cert.pem'), 'utf8');

  return {
    child,
    zmsUrl,
    ztsUrl,
    ca,
    output: () => out,
    alive: () => running,
    async admin() {
      const login = await httpsJson<{ token: string }>({
        url: `${zmsUrl}/user/_self_/token`,
        ca,
        headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
      });
      if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${login.text}`);
      const token = login.body.token;
      return (method, path, body) =>
        httpsJson({ method, url: `${zmsUrl}${path}`, body, ca, headers: { authorization: `Bearer ${token}` }, timeoutMs: 60_000 });
    },
    async stop() {
      if (running) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
}
