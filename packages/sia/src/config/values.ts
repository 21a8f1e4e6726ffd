/** Typed reads of one setting, each error naming where the value came from. */
import type { KeyAlgorithm } from '@tessera/core/x509/keys';
import { ConfigError, type Raw } from './types.ts';

function where(source: string, key: string): string {
  return `${source}: ${key}`;
}

export function str(o: Raw, key: string, source: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${where(source, key)} must be a string`);
  return v;
}

export function bool(o: Raw, key: string, source: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`${where(source, key)} must be true or false`);
  return v;
}

export function num(o: Raw, key: string, source: string, integer = true): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || v < 0 || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`${where(source, key)} must be a ${integer ? 'whole ' : ''}number of at least 0`);
  }
  return v;
}

export function obj(o: Raw, key: string, source: string): Raw | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where(source, key)} must be a JSON object`);
  return v as Raw;
}

export const envTrue = (v: string | undefined) => v === 'true' || v === '1';

export function envNumber(v: string | undefined, integer = true): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  // As Athenz: a value that does not parse, or is not positive, is ignored.
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) return undefined;
  return n;
}

export function keyType(v: string | undefined, source: string): KeyAlgorithm {
  if (v === undefined || v === '' || v === 'rsa') return 'rsa';
  if (v === 'ec' || v === 'ecdsa') return 'ec';
  throw new ConfigError(`${source}: key_type must be "rsa" (RSA 2048, the default) or "ec" (ECDSA P-256), not "${v}"`);
}


export function signingAlgorithm(v: string | undefined, source: string): 'RS256' | 'ES384' {
  if (v === undefined || v === '' || v === 'ES384') return 'ES384';
  if (v === 'RS256') return 'RS256';
  throw new ConfigError(`${source}: aws_web_identity_signing_algorithm must be "ES384" (the default) or "RS256", not "${v}"`);
}
