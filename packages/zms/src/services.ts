/** Service identities `<domain>.<service>` with their public keys and provider endpoint. */
import { createPublicKey } from 'node:crypto';
import { badRequest, notFound } from '@tessera/core/errors';
import { serviceFullName, serviceNameProblem, validName } from '@tessera/core/names';
import type { PublicKeyEntry, ServiceIdentity } from '@tessera/core/model';
import { ybase64Decode, ybase64Encode } from '@tessera/core/ybase64';
import { pemBody } from '@tessera/core/x509/der/x509-reader';
import type { Actor, ZmsContext } from './context.ts';
import { writeDomain, type Trx } from './domain-write.ts';
import { asBody, optArray, optString } from './body.ts';

/** Rules Athenz applies to new service names, on top of the SimpleName pattern (core/names.ts). */
export function validNewServiceName(ctx: ZmsContext, name: string): void {
  const problem = serviceNameProblem(name, ctx.config.serviceNameMinLength);
  if (problem) throw badRequest(problem.startsWith('Invalid') ? problem : `putServiceIdentity: ${problem}`);
}

/** A public key entry: id and the YBase64-encoded PEM, which must parse as a public key. */
export function readPublicKey(raw: unknown, field: string): PublicKeyEntry {
  const body = asBody(raw);
  const id = validName('simple', `${field}.id`, optString(body, 'id') ?? '0');
  const key = optString(body, 'key');
  if (!key) throw badRequest(`${field}.key is required: the PEM public key, YBase64-encoded`);
  const invalid = () => badRequest(`Provided public key is invalid (${field}, id ${id}): send a PEM public key, YBase64-encoded`);
  const plainPem = key.includes('-----BEGIN');
  let pem: string;
  try {
    pem = plainPem ? key : ybase64Decode(key);
  } catch {
    throw invalid(); // not YBase64 at all (e.g. "0": a length no encoder makes)
  }
  try {
    createPublicKey(pem);
    return { id, key };
  } catch {
    // Athenz's PEM reader skips blank lines and stray whitespace in the block; node's does not. Athenz's UI
    // sends such a key (its Add Key re-wraps a pasted key with a blank line before END): keep it, re-wrapped.
    const rewrapped = rewrappedPublicKeyPem(pem);
    if (!rewrapped) throw invalid();
    return { id, key: plainPem ? rewrapped : ybase64Encode(rewrapped) };
  }
}

/** A "PUBLIC KEY" block whose base64 has blank lines or spaces, in node's layout; undefined when it is no public key. */
function rewrappedPublicKeyPem(pem: string): string | undefined {
  try {
    const der = pemBody(pem, 'PUBLIC KEY');
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    return undefined;
  }
}

export async function putService(ctx: ZmsContext, actor: Actor, domain: string, service: string, raw: unknown): Promise<void> {
  const api = 'putServiceIdentity';
  const body = asBody(raw);
  const name = optString(body, 'name');
  if (name !== undefined && name.toLowerCase() !== serviceFullName(domain, service)) {
    throw badRequest(`${api}: Inconsistent service/domain names: body has ${name}, path is ${serviceFullName(domain, service)}`);
  }
  const keys = (optArray(body, 'publicKeys') ?? []).map((k, i) => readPublicKey(k, `publicKeys[${i}]`));
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw badRequest(`${api}: public key ids must be unique`);
  const description = optString(body, 'description') ?? null;

  await writeDomain(ctx, actor, { domain, api, kind: 'service' }, async (trx, modified) => {
    const existing = await trx.selectFrom('services').select('name').where('domain', '=', domain).where('name', '=', service).executeTakeFirst();
    if (!existing) validNewServiceName(ctx, service);
    // The provider endpoint is a system attribute: a regular PUT keeps the stored one.
    await trx
      .insertInto('services')
      .values({ domain, name: service, description, provider_endpoint: null, modified })
      .onConflict((oc) => oc.columns(['domain', 'name']).doUpdateSet({ description, modified }))
      .execute();
    await trx.deleteFrom('public_keys').where('domain', '=', domain).where('service', '=', service).execute();
    for (const k of keys) await trx.insertInto('public_keys').values({ domain, service, key_id: k.id, key: k.key }).execute();
    return { result: undefined, details: { service, created: !existing, publicKeys: keys.map((k) => k.id) } };
  });
}

async function requireService(trx: Trx, domain: string, service: string, api: string): Promise<void> {
  const row = await trx.selectFrom('services').select('name').where('domain', '=', domain).where('name', '=', service).executeTakeFirst();
  if (!row) throw notFound(`${api}: Service not found: ${serviceFullName(domain, service)}`);
}

export async function deleteService(ctx: ZmsContext, actor: Actor, domain: string, service: string): Promise<void> {
  await writeDomain(ctx, actor, { domain, api: 'deleteServiceIdentity', kind: 'service' }, async (trx) => {
    await requireService(trx, domain, service, 'deleteServiceIdentity');
    await trx.deleteFrom('services').where('domain', '=', domain).where('name', '=', service).execute();
    return { result: undefined, details: { service } };
  });
}

export async function putPublicKey(ctx: ZmsContext, actor: Actor, domain: string, service: string, keyId: string, raw: unknown): Promise<void> {
  const entry = readPublicKey({ ...asBody(raw), id: keyId }, 'publicKeyEntry');
  const bodyId = optString(asBody(raw), 'id');
  if (bodyId !== undefined && bodyId.toLowerCase() !== keyId) {
    throw badRequest(`putPublicKeyEntry: key id in the body (${bodyId}) does not match the path (${keyId})`);
  }
  await writeDomain(ctx, actor, { domain, api: 'putPublicKeyEntry', kind: 'service' }, async (trx, modified) => {
    await requireService(trx, domain, service, 'putPublicKeyEntry');
    await trx
      .insertInto('public_keys')
      .values({ domain, service, key_id: keyId, key: entry.key })
      .onConflict((oc) => oc.columns(['domain', 'service', 'key_id']).doUpdateSet({ key: entry.key }))
      .execute();
    await trx.updateTable('services').set({ modified }).where('domain', '=', domain).where('name', '=', service).execute();
    return { result: undefined, details: { service, publicKey: keyId } };
  });
}

export async function deletePublicKey(ctx: ZmsContext, actor: Actor, domain: string, service: string, keyId: string): Promise<void> {
  await writeDomain(ctx, actor, { domain, api: 'deletePublicKeyEntry', kind: 'service' }, async (trx, modified) => {
    await requireService(trx, domain, service, 'deletePublicKeyEntry');
    const deleted = await trx
      .deleteFrom('public_keys')
      .where('domain', '=', domain)
      .where('service', '=', service)
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) throw notFound(`deletePublicKeyEntry: no public key ${keyId} on ${serviceFullName(domain, service)}`);
    await trx.updateTable('services').set({ modified }).where('domain', '=', domain).where('name', '=', service).execute();
    return { result: undefined, details: { service, deletedPublicKey: keyId } };
  });
}

/** `providerendpoint` is the only service system attribute Tessera keeps. */
export async function putServiceSystemMeta(
  ctx: ZmsContext,
  actor: Actor,
  domain: string,
  service: string,
  attribute: string,
  raw: unknown,
): Promise<void> {
  const api = 'putServiceIdentitySystemMeta';
  // The attribute name and who may set it: http/authorization.ts (serviceSystemMeta).
  if (attribute !== 'providerendpoint') throw badRequest(`${api}: unknown service system meta attribute: ${attribute} (known: providerendpoint)`);
  const endpoint = optString(asBody(raw), 'providerEndpoint') ?? null;
  if (endpoint !== null && !/^(https?|class):\/\/\S+$/.test(endpoint)) {
    throw badRequest(`${api}: providerEndpoint must be an http(s):// URL or a class:// provider name`);
  }
  await writeDomain(ctx, actor, { domain, api, kind: 'service' }, async (trx, modified) => {
    await requireService(trx, domain, service, api);
    await trx.updateTable('services').set({ provider_endpoint: endpoint, modified }).where('domain', '=', domain).where('name', '=', service).execute();
    return { result: undefined, details: { service, providerEndpoint: endpoint } };
  });
}

export function getService(ctx: ZmsContext, domain: string, service: string): ServiceIdentity {
  const found = ctx.snapshots.get(domain)?.services.find((s) => s.name === serviceFullName(domain, service));
  if (!found) throw notFound(`getServiceIdentity: Service not found: ${serviceFullName(domain, service)}`);
  return found;
}
