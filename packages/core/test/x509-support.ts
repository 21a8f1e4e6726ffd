/** Shared by the x509-*.test.ts files: temp dirs and the real openssl binary. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const now = new Date();
export const daysFromNow = (n: number): Date => new Date(now.getTime() + n * 86_400_000);

export async function withDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-x509-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface OpensslResult {
  ok: boolean;
  output: string;
}

/** Runs openssl in a temp dir holding `files`; stdout+stderr either way, so failures can be asserted on. */
export function openssl(args: string[], files: Record<string, string> = {}): OpensslResult {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-openssl-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Like openssl() but the command must succeed; returns its stdout (+stderr). */
export function opensslOk(args: string[], files: Record<string, string> = {}): string {
  const r = openssl(args, files);
  if (!r.ok) throw new Error(`openssl ${args.join(' ')} failed:\n${r.output}`);
  return r.output;
}

export const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
