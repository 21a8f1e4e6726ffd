/**
 * Liveness and readiness, on both ports and outside the API prefixes:
 * GET /healthz is 200 while the process serves requests; GET /readyz is 200
 * only when the database answers within a short timeout and the CA key signs,
 * else 503 with the reason, so a load balancer stops sending work here.
 */
import { createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';

export interface Readiness {
  /** undefined when ready, else what is wrong, in words. */
  problem(): Promise<string | undefined>;
  dbUp(): Promise<boolean>;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the CA key is loaded and pairs with the CA certificate: a signature by it verifies with the certificate's key. */
function caKeyProblem(key: KeyObject, certKey: KeyObject): string | undefined {
  try {
    const data = Buffer.from('tessera readiness');
    return verify('sha256', data, certKey, sign('sha256', data, key)) ? undefined : 'the CA key does not match the CA certificate';
  } catch (e) {
    return `the CA key cannot sign: ${(e as Error).message}`;
  }
}

export function readiness(db: Kysely<Database>, ca: { keyPem: string; certPem: string }, timeoutMs = 2000): Readiness {
  let key: KeyObject | undefined;
  let certKey: KeyObject | undefined;
  let loadProblem: string | undefined;
  try {
    key = createPrivateKey(ca.keyPem);
    certKey = new X509Certificate(ca.certPem).publicKey;
  } catch (e) {
    loadProblem = `the CA key is not loaded: ${(e as Error).message}`;
  }
  const dbProblem = async () => {
    try {
      await withTimeout(sql`select 1`.execute(db), timeoutMs, 'the database');
      return undefined;
    } catch (e) {
      return `database unreachable: ${(e as Error).message}`;
    }
  };
  return {
    async problem() {
      return loadProblem ?? (await dbProblem()) ?? caKeyProblem(key!, certKey!);
    },
    async dbUp() {
      return (await dbProblem()) === undefined;
    },
  };
}

export function healthRoutes(app: FastifyInstance, r: Readiness): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const problem = await r.problem();
    if (problem) return reply.code(503).send({ code: 503, message: `not ready: ${problem}` });
    return { status: 'ready' };
  });
}
