/** Per-request helpers for the ZMS routes: the caller, path names, Athenz headers. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '@tessera/core/errors';
import { validName } from '@tessera/core/names';
import type { Actor } from '../context.ts';
import { bearerToken, type Authenticator } from '../auth/authenticate.ts';

export type Params = Record<string, string>;

export function actorOf(auth: Authenticator, req: FastifyRequest): Actor {
  const principal = auth.principal(req);
  if (!principal) {
    if (bearerToken(req) === undefined && req.headers.cookie?.includes('tessera_session=')) throw unauthorized('Your session has expired: log in again');
    const refusal = auth.refusal(req);
    throw unauthorized(
      refusal
        ? `Authentication required: ${refusal}; log in (GET /zms/v1/user/_self_/token) for a new token`
        : 'Authentication required: log in (GET /zms/v1/user/_self_/token) and send the token, or use a client certificate',
    );
  }
  const auditRef = req.headers['y-audit-ref'];
  return { principal, ...(typeof auditRef === 'string' && auditRef !== '' ? { auditRef } : {}) };
}

/** Lower-cased, validated path parameters. */
export function names(req: FastifyRequest) {
  const p = req.params as Params;
  return {
    domain: () => validName('domain', 'domain name', p.domain),
    parent: () => validName('domain', 'parent domain', p.parent),
    role: () => validName('entity', 'role name', p.role),
    policy: () => validName('entity', 'policy name', p.policy),
    service: () => validName('simple', 'service name', p.service),
    member: () => validName('member', 'member name', p.member),
    simple: (key: string, label: string) => validName('simple', label, p[key]),
  };
}

/** Athenz-Return-Object: true → 200 with the stored object, else 204. */
export function sendStored(req: FastifyRequest, reply: FastifyReply, load: () => unknown): FastifyReply {
  if (req.headers['athenz-return-object'] === 'true') return reply.code(200).send(load());
  return reply.code(204).send();
}

/** The authenticated caller's principal (401 when there is none). */
export const callerOf = (auth: Authenticator, req: FastifyRequest): string => actorOf(auth, req).principal;

/** The query string as plain strings. */
export const queryOf = (req: FastifyRequest): Record<string, string | undefined> => req.query as Record<string, string | undefined>;
