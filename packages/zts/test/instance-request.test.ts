/**
 * instance-request.ts helpers shared by register and refresh: the optional
 * lifetime in minutes a request may ask for, and the certificate signed from
 * what ZTS decided (its lifetime, and a client-only usage when the provider says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@tessera/core/errors';
import type { DomainData } from '@tessera/core/model';
import type { ZtsContext } from '../src/context.ts';
import type { SignRequest } from '../src/signer.ts';
import { optMinutes, signServiceCert } from '../src/instance-request.ts';

test('optMinutes: absent is undefined, a whole number is kept, anything else is a 400 naming the field', () => {
  assert.equal(optMinutes(undefined, 'expiryTime'), undefined);
  assert.equal(optMinutes(null, 'expiryTime'), undefined);
  assert.equal(optMinutes(0, 'expiryTime'), 0);
  assert.equal(optMinutes(90, 'expiryTime'), 90);
  for (const bad of ['60', 1.5, -1, Number.NaN, true]) {
    assert.throws(() => optMinutes(bad, 'expiryTime'), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === 'expiryTime must be a whole number of minutes', String(bad));
  }
});

const NOW = new Date('2026-06-01T12:00:00Z');

function signing() {
  const signed: SignRequest[] = [];
  const ctx = {
    now: () => NOW,
    config: { maxCertMins: 7 * 24 * 60 },
    signer: {
      sign: async (req: SignRequest) => {
        signed.push(req);
        return { certPem: 'PEM', serialHex: '0a' };
      },
    },
  } as unknown as ZtsContext;
  return { ctx, signed };
}

const data = { name: 'sports', serviceCertExpiryMins: 120 } as DomainData;
const v = {
  csr: { publicKeyPem: 'PUBLIC KEY PEM' },
  names: { subject: { commonName: 'sports.api' }, dnsNames: ['api.sports.aws.example.com'], uris: ['spiffe://sports/sa/api'] },
} as unknown as Parameters<typeof signServiceCert>[2];

test('signServiceCert: a provider asking for a client certificate gets one; otherwise client and server', async () => {
  const client = signing();
  const r = await signServiceCert(client.ctx, data, v, { certUsage: 'client' }, 60);
  assert.equal(client.signed[0].usage, 'client');
  assert.deepEqual(r, { certPem: 'PEM', serialHex: '0a', notAfter: new Date(NOW.getTime() + 60 * 60_000) });
  assert.deepEqual(client.signed[0].uris, ['spiffe://sports/sa/api']);
  assert.equal(client.signed[0].publicKeyPem, 'PUBLIC KEY PEM');

  for (const certUsage of [undefined, 'server'] as const) {
    const both = signing();
    const s = await signServiceCert(both.ctx, data, v, certUsage ? { certUsage } : {}, undefined);
    assert.equal(both.signed[0].usage, 'client-server', String(certUsage));
    assert.equal(s.notAfter.getTime(), NOW.getTime() + 120 * 60_000, 'the domain cap when nothing else asks');
  }
});
