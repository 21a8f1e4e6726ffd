/**
 * Starts a real `tessera serve` (in-process, on free ports, a temp data dir)
 * on SQLite or on a throwaway PostgreSQL, and gives tests a logged-in client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';
import { startTestPostgres } from '@tessera/store/test/support/postgres';
import { serverConfig, type ServeFlags } from '../../src/server-config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: Backend[] = ['sqlite', 'postgres'];
export const ADMIN_PASSWORD = 'admin-password-for-tests';
/** The STS endpoint of a test server started without aws-sim: a closed loopback port. */
export const NO_STS = 'http://127.0.0.1:1';

/**
 * Every test server logs everything (debug, JSON) to a file here, so that
 * e2e/zz-log-secrets.test.ts can check that no line of the suite holds a secret.
 */
export const TEST_LOG_DIR = process.env.TESSERA_TEST_LOG_DIR || join(tmpdir(), 'tessera-test-logs');
export const testLogFlags = (name: string): ServeFlags => ({ logLevel: 'debug', logFormat: 'json', logFile: join(TEST_LOG_DIR, `${name}.log`) });

export interface Client {
  token: string;
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpsResponse<T>>;
}

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  url: string;
  ca: string;
  admin: Client;
  /** A client with no credentials at all. */
  anonymous: Client;
  /** Creates user.<name> (as the admin) and logs in as them. */
  user(name: string): Promise<Client>;
  login(user: string, password: string): Promise<Client>;
  close(): Promise<void>;
}

/** `now` is the server's clock (tests move it to expire tokens without waiting). */
export async function startTestServer(backend: Backend = 'sqlite', flags: ServeFlags = {}, o: { now?: () => Date } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const pg = backend === 'postgres' ? await startTestPostgres() : undefined;
  const config = serverConfig(
    // Without aws-sim, STS is a loopback port nothing listens on: a test that reaches STS fails at once, locally.
    { dataDir, zmsPort: '0', ztsPort: '0', awsStsEndpoint: NO_STS, ...testLogFlags(basename(dataDir)), ...(pg ? { db: pg.url } : {}), ...flags },
    { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD },
  );
  const server = await startServer(config, o.now);
  const ca = server.tls.caCertPem;
  const url = server.zmsUrl;

  const client = (token: string): Client => ({
    token,
    call: (method, path, body, headers = {}) =>
      httpsJson({ method, url: `${url}${path}`, body, ca, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }),
  });
  const login = async (user: string, password: string): Promise<Client> => {
    const res = await httpsJson<{ token: string }>({
      url: `${url}/user/_self_/token`,
      ca,
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    });
    if (res.status !== 200) throw new Error(`login as ${user} failed: ${res.status} ${res.text}`);
    return client(res.body.token);
  };
  const admin = await login('admin', ADMIN_PASSWORD);

  return {
    server,
    dataDir,
    url,
    ca,
    admin,
    anonymous: client(''),
    login,
    async user(name) {
      const password = `${name}-password`;
      const res = await admin.call('PUT', `/user/${name}/password`, { password });
      if (res.status !== 204) throw new Error(`creating user ${name} failed: ${res.status} ${res.text}`);
      return login(name, password);
    },
    async close() {
      await server.close();
      await pg?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One sample of ZTS's /metrics, named as Prometheus prints it (e.g. `tessera_ca_signatures_total{what="certificate"}`); 0 while absent. */
export async function ztsMetric(t: Pick<TestServer, 'server' | 'ca'>, sample: string): Promise<number> {
  const res = await httpsJson<string>({ url: t.server.ztsUrl.replace('/zts/v1', '/metrics'), ca: t.ca });
  const line = res.text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
