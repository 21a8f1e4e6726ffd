/**
 * What every step of siad works with (the agent: configuration, workload, AWS,
 * ZTS) and the few things they share: new keys, writing files with the
 * configured owner, turning a ZTS refusal into a message.
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyAlgorithm } from '@tessera/core/x509/keys';
import type { ServiceConfig, SiaConfig } from './config/types.ts';
import type { AwsIdentity, Workload } from './aws-identity.ts';
import { commitFiles, resolveOwner, type FileWrite, type Owner } from './files.ts';
import { ZtsRefusal, type ZtsClient } from './zts-client.ts';

export interface Agent {
  config: SiaConfig;
  workload: Workload;
  aws: AwsIdentity;
  zts: ZtsClient;
  provider: string;
  dnsDomains: string[];
  siaDir: string;
  env: Record<string, string | undefined>;
  /** Where passwd and group are read (tests point it elsewhere). */
  etcDir: string;
  log: (line: string) => void;
  now: () => Date;
  /** Set once siad has said it cannot hand files to group athenz. */
  ownerWarned?: boolean;
  /** A key started before the agent was set up (a register, from main): the first newKey of its type takes it. */
  earlyKey?: EarlyKey;
}

export interface EarlyKey {
  type: KeyAlgorithm;
  key: Promise<string>;
}


/** A certificate on disk and when it expires. */
export interface CertState {
  name: string;
  notAfter: Date;
  /** The files written for it (the hook is told). */
  files: string[];
}

/** A ZTS refusal, with what was asked. */
export class CommandError extends Error {}

export const nameOf = (a: Agent, svc: ServiceConfig) => `${a.config.domain}.${svc.name}`;

const generate = promisify(generateKeyPair);

/**
 * A new private key, RSA 2048 or EC P-256, generated on libuv's thread pool:
 * an RSA key takes 0.1–0.4 s of CPU, which siad overlaps with its network
 * calls instead of blocking on it.
 */
export async function generateKey(type: KeyAlgorithm): Promise<string> {
  // PKCS#1 / SEC1, the PEM forms Athenz SIA writes and its consumers expect.
  const { privateKey } = type === 'ec'
    ? await generate('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'sec1', format: 'pem' } })
    : await generate('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  return privateKey;
}

/** Starts a key now for a later newKey (see Agent.earlyKey). */
export function startEarlyKey(type: KeyAlgorithm): EarlyKey {
  const key = generateKey(type);
  key.catch(() => undefined); // whoever takes it sees a failure; nobody taking it is no crash
  return { type, key };
}

/** A new key of the configured type: the early one if it is of that type (each key is used once), else a fresh one. */
export function newKey(a: Agent): Promise<string> {
  const early = a.earlyKey;
  if (early?.type === a.config.keyType) {
    a.earlyKey = undefined;
    return early.key;
  }
  return generateKey(a.config.keyType);
}

/** Commits files with the configured owner; a default group siad may not give away is skipped with a warning. */
export function commit(a: Agent, files: FileWrite[], who: { user?: string; group?: string }): void {
  const owner = resolveOwner({ ...who, etcDir: a.etcDir });
  const opts = { backupDir: a.config.backupDir, directUpdate: a.config.fileDirectUpdate };
  const withOwner = (o: Owner | undefined) => files.map((f) => ({ ...f, ...(o ? { owner: o } : {}) }));
  try {
    commitFiles(withOwner(owner), opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM' || !owner.defaultGroup || who.user) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') {
        throw new Error(`cannot give ${files.map((f) => f.path).join(', ')} to uid ${owner.uid} gid ${owner.gid}: run siad as root, or configure user/group as the account siad runs as`);
      }
      throw e;
    }
    if (!a.ownerWarned) a.log(`cannot give the files to group athenz (gid ${owner.gid}) as this user; they keep siad's own group`);
    a.ownerWarned = true;
    commitFiles(withOwner(undefined), opts);
  }
}

export function refusal(what: string, e: unknown): never {
  if (e instanceof ZtsRefusal) throw new CommandError(`ZTS refused ${what} (${e.status}): ${e.message}`, { cause: e });
  throw e;
}
