/**
 * The Workload API's JWT calls, backed by ZTS: JWT-SVIDs from ZTS's
 * `POST /svid/jwt` (signed with its token key), the bundle is ZTS's JWK set
 * (`GET /oauth2/keys?rfc=true`), and validation checks a JWT-SVID against
 * that set with jose.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { CommandError, nameOf, refusal, type Agent } from './agent.ts';
import { inspectService } from './service-cert.ts';

export interface JwtSource {
  fetch(audience: string[], signal?: AbortSignal): Promise<{ spiffeId: string; token: string }>;
  jwks(signal?: AbortSignal): Promise<JSONWebKeySet>;
}

export function ztsJwtSource(a: Agent): JwtSource {
  return {
    async fetch(audience, signal) {
      const svc = a.config.services[0];
      const current = inspectService(a, svc);
      if (!current.usable) throw new CommandError(`no JWT-SVID yet: the service certificate of ${nameOf(a, svc)} is not usable (${current.reason})`);
      return a.zts.jwtSvid({ audience }, { cert: current.certPem, key: current.keyPem }, signal).catch((e) => refusal(`a JWT-SVID for ${nameOf(a, svc)}`, e));
    },
    jwks: (signal) => a.zts.jwks(signal) as Promise<JSONWebKeySet>,
  };
}

/** Verifies a JWT-SVID: signed by a key of the set, unexpired, for `audience`, with a SPIFFE ID as `sub`. */
export async function validateJwtSvid(token: string, audience: string, jwks: JSONWebKeySet): Promise<{ spiffeId: string; claims: JWTPayload }> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { audience });
  if (typeof payload.sub !== 'string' || !payload.sub.startsWith('spiffe://')) throw new Error('the token\'s sub is not a SPIFFE ID');
  return { spiffeId: payload.sub, claims: payload };
}

type Value = Record<string, unknown>;

/** A JSON value as google.protobuf.Value, in protobufjs's object form (its bundled struct.proto names the fields in camelCase). */
export function toProtoValue(v: unknown): Value {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toProtoValue) } };
  return { structValue: toProtoStruct(v as Record<string, unknown>) };
}

export function toProtoStruct(o: Record<string, unknown>): { fields: Record<string, Value> } {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toProtoValue(v)])) };
}
