/**
 * What registerInstance records from the provider's answer: a provider asking
 * for a client-only certificate is kept as client_cert = 1, and one that
 * attests no identity leaves attested_identity empty. The built-in AWS provider
 * does neither, so a provider of the registry's interface stands in here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainData } from '@tessera/core/model';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { openStore } from '@tessera/store/open-store';
import type { ZtsContext } from '../src/context.ts';
import { findCertRecord } from '../src/cert-records.ts';
import { registerInstance } from '../src/instance-register.ts';
import { ProviderRegistry } from '../src/providers/registry.ts';
import type { ProviderResult } from '../src/providers/instance-provider.ts';
import type { SignRequest } from '../src/signer.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const PROVIDER = 'sys.auth.test';

const domain = (name: string, rest: Partial<DomainData>): DomainData =>
  ({ name, modified: NOW.toISOString(), roles: [], policies: { contents: { domain: name, policies: [] } }, services: [], entities: [], groups: [], ...rest }) as DomainData;

const snapshots = new Map<string, DomainData>([
  ['sys.auth', domain('sys.auth', {
    roles: [{ name: 'sys.auth:role.providers', roleMembers: [{ memberName: PROVIDER }] }],
    policies: { contents: { domain: 'sys.auth', policies: [{ name: 'sys.auth:policy.providers', assertions: [{ role: 'sys.auth:role.providers', resource: 'sys.auth:instance', action: 'launch', effect: 'ALLOW' }] }] } },
    services: [{ name: PROVIDER, providerEndpoint: 'class://test-provider' } as DomainData['services'][number]],
  })],
  ['sports', domain('sports', {
    roles: [{ name: 'sports:role.launcher', roleMembers: [{ memberName: PROVIDER }] }],
    policies: { contents: { domain: 'sports', policies: [{ name: 'sports:policy.launcher', assertions: [{ role: 'sports:role.launcher', resource: 'sports:service.api', action: 'launch', effect: 'ALLOW' }] }] } },
    services: [{ name: 'sports.api' } as DomainData['services'][number]],
  })],
]);

async function register(answer: ProviderResult, instanceId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-register-record-'));
  const store = await openStore(join(dir, 'tessera.db'));
  const snaps = { get: (d: string) => snapshots.get(d) } as unknown as ZtsContext['snapshots'];
  const signed: SignRequest[] = [];
  const ctx = {
    db: store.db,
    snapshots: snaps,
    providers: new ProviderRegistry(snaps, { 'class://test-provider': () => ({ confirm: async () => answer, refresh: async () => answer }) }),
    config: { certAllowedO: [], maxCertMins: 7 * 24 * 60 },
    signer: {
      sign: async (req: SignRequest) => {
        signed.push(req);
        return { certPem: 'CERT PEM', serialHex: '0b' };
      },
      caBundlePem: () => 'CA PEM',
    },
    now: () => NOW,
  } as unknown as ZtsContext;
  try {
    const key = generateKeyPair('ec');
    const csr = await createCsr({ keyPem: key.privateKeyPem, subject: { commonName: 'sports.api' }, uris: [`athenz://instanceid/${PROVIDER}/${instanceId}`] });
    const r = await registerInstance(ctx, { ip: '127.0.0.1' }, { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: '{}', csr });
    assert.equal(r.instanceId, instanceId);
    const record = await findCertRecord(store.db, { provider: PROVIDER, instanceId, service: 'sports.api' });
    assert.ok(record, 'a certificate record is written');
    return { record, signed };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a client-only certificate without an attested identity is recorded as such', async () => {
  const { record, signed } = await register({ certUsage: 'client' }, 'i-client');
  assert.equal(signed[0].usage, 'client');
  assert.equal(record.client_cert, 1);
  assert.equal(record.attested_identity, null);
});

test('a client-and-server certificate keeps the identity the provider attested', async () => {
  const { record, signed } = await register({ attestedIdentity: 'arn:aws:sts::123456789012:assumed-role/sports.api/i-both' }, 'i-both');
  assert.equal(signed[0].usage, 'client-server');
  assert.equal(record.client_cert, 0);
  assert.equal(record.attested_identity, 'arn:aws:sts::123456789012:assumed-role/sports.api/i-both');
});
