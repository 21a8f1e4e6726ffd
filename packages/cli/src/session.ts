/**
 * How zms-cli authenticates: a client certificate (-key/-cert), or a user
 * token obtained with a password (from TESSERA_PASSWORD or a prompt) and
 * cached in ~/.ntoken (mode 0600) until it expires.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';

export interface SessionOptions {
  zmsUrl: string;
  ca?: string;
  key?: string;
  cert?: string;
  identity: string;
  home: string;
  password?: string;
  stdin: Readable & { isTTY?: boolean };
  stderr: Writable;
}

export interface Session {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<HttpsResponse<T>>;
}

/** Seconds of validity a cached token must have left to be reused. */
const MIN_REMAINING_SECONDS = 60;

function tokenExpiry(token: string): number {
  return Number(/(?:^|;)e=(\d+)/.exec(token)?.[1] ?? 0);
}

function tokenPrincipal(token: string): string {
  const d = /(?:^|;)d=([^;]+)/.exec(token)?.[1];
  const n = /(?:^|;)n=([^;]+)/.exec(token)?.[1];
  return `${d}.${n}`;
}

async function promptPassword(o: SessionOptions): Promise<string> {
  if (!o.stdin.isTTY) {
    throw new Error(`no password for ${o.identity}: set TESSERA_PASSWORD, run interactively, or use -key/-cert`);
  }
  o.stderr.write(`Password for ${o.identity}: `);
  // readline echoes what is typed to its output: a stream that drops it keeps the password off the screen.
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: o.stdin, output: muted, terminal: true });
  const line = await new Promise<string>((resolve) => rl.once('line', resolve));
  rl.close();
  o.stderr.write('\n');
  return line;
}

export function openSession(o: SessionOptions): Session {
  const cachePath = join(o.home, '.ntoken');
  const tls = { ca: o.ca, ...(o.key && o.cert ? { key: o.key, cert: o.cert } : {}) };
  const mtls = !!(o.key && o.cert);
  let token: string | undefined;

  const cached = (): string | undefined => {
    if (!existsSync(cachePath)) return undefined;
    const t = readFileSync(cachePath, 'utf8').trim();
    const fresh = tokenExpiry(t) - Date.now() / 1000 > MIN_REMAINING_SECONDS;
    return fresh && tokenPrincipal(t) === o.identity ? t : undefined;
  };

  const login = async (): Promise<string> => {
    const password = o.password ?? (await promptPassword(o));
    const user = o.identity.replace(/^user\./, '');
    const res = await httpsJson<{ token: string; message?: string }>({
      url: `${o.zmsUrl}/user/_self_/token`,
      ...tls,
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    });
    if (res.status !== 200) throw new LoginError(res.status, (res.body as { message?: string })?.message ?? res.text);
    writeFileSync(`${cachePath}.tmp`, res.body.token, { mode: 0o600 });
    renameSync(`${cachePath}.tmp`, cachePath);
    return res.body.token;
  };

  const send = <T>(method: string, path: string, body: unknown, t?: string) =>
    httpsJson<T>({ method, url: `${o.zmsUrl}${path}`, body, ...tls, headers: t ? { authorization: `Bearer ${t}` } : {} });

  return {
    async call<T>(method: string, path: string, body?: unknown) {
      if (mtls) return send<T>(method, path, body);
      token ??= cached() ?? (await login());
      const res = await send<T>(method, path, body, token);
      if (res.status !== 401) return res;
      // The cached token was not accepted (another server, a new key): log in once more.
      token = await login();
      return send<T>(method, path, body, token);
    },
  };
}

export class LoginError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
