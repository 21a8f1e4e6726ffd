/**
 * Files as Athenz SIA lays them out under the sia dir: keys/, certs/. Each file
 * is written to a temporary name and renamed, the previous one kept as
 * `<name>.bak`, so a failed run never leaves a half-written key or a
 * certificate that does not match its key.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const KEY_MODE = 0o440;
export const CERT_MODE = 0o444;

export function siaPaths(siaDir: string, domain: string, service: string) {
  return {
    key: join(siaDir, 'keys', `${domain}.${service}.key.pem`),
    cert: join(siaDir, 'certs', `${domain}.${service}.cert.pem`),
    ca: join(siaDir, 'certs', 'ca.cert.pem'),
    roleCert: (role: string) => join(siaDir, 'certs', `${role}.cert.pem`),
    roleKey: join(siaDir, 'keys', `${domain}.${service}.key.pem`),
  };
}

function stage(path: string, content: string, mode: number): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  return tmp;
}

/** Writes several files so that either all of them change or none does (renames happen last). */
export function writeAll(files: { path: string; content: string; mode: number }[]): void {
  const staged = files.map((f) => ({ ...f, tmp: stage(f.path, f.content, f.mode) }));
  for (const f of staged) {
    if (existsSync(f.path)) copyFileSync(f.path, `${f.path}.bak`);
    renameSync(f.tmp, f.path);
  }
}
