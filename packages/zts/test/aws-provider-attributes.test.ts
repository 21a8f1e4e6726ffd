/**
 * The AWS provider with attributes the request leaves out (no sanDNS, no
 * instanceId, no sanURI) and an identity document without pendingTime: an
 * absent value is an empty one, refused where the rule needs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentSigner } from '@tessera/aws-sim/identity-document';
import { ProviderError, type InstanceConfirmation } from '../src/providers/instance-provider.ts';
import { awsProvider } from '../src/providers/aws/aws-provider.ts';
import type { TokenSettings } from '../src/providers/aws/token-attestation.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const ACCOUNT = '123456789012';
const PROVIDER = 'sys.auth.aws.us-west-2';
const SUFFIX = 'aws.example.com';
const ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/i-0abc`;
const { signer, certificatePem } = DocumentSigner.generate(NOW);

function provider(callerChecks: string[] = []) {
  return awsProvider(PROVIDER, {
    flavor: 'ec2',
    dnsSuffixes: [SUFFIX],
    documentCertsPem: [certificatePem],
    bootWindowSeconds: 300,
    stsOnlyCertMins: 60,
    callerIdentity: async (creds) => {
      callerChecks.push(creds.access);
      return ARN;
    },
    methods: ['sts'],
    tokens: {} as TokenSettings, // the sts method never reads it
    count: () => {},
    now: () => NOW,
  });
}

const creds = { role: 'sports.api', access: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG', token: 'FwoGZXIvYXdzEXAMPLE' };

function confirmation(attributes: Record<string, string>, document?: Record<string, unknown>): InstanceConfirmation {
  const doc = document && JSON.stringify(document);
  return {
    provider: PROVIDER,
    domain: 'sports',
    service: 'api',
    attestationData: JSON.stringify(doc ? { ...creds, document: doc, signature: signer.pkcs7(doc, NOW) } : creds),
    attributes: { awsAccount: ACCOUNT, ...attributes },
  };
}

const sanDNS = `api.sports.${SUFFIX},i-0abc.instanceid.athenz.${SUFFIX}`;
const doc = { accountId: ACCOUNT, instanceId: 'i-0abc', region: 'us-west-2', pendingTime: new Date(NOW.getTime() - 60_000).toISOString() };

async function refused(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof ProviderError, `expected a ProviderError, got ${String(e)}`);
  return e;
}

test('no sanDNS attribute: refused for having no DNS name of the service', async () => {
  const checks: string[] = [];
  const e = await refused(provider(checks).confirm(confirmation({ instanceId: 'i-0abc' })));
  assert.equal(e.status, 403);
  assert.match(e.message, /^Unable to validate certificate request hostnames: the CSR has no DNS name for the service \(expected a name like api\.sports\.aws\.example\.com\)/);
  assert.deepEqual(checks, [], 'STS is not asked');
});

test('no instanceId attribute: the signed document\'s instance id does not match an empty one', async () => {
  const e = await refused(provider().confirm(confirmation({ sanDNS }, doc)));
  assert.equal(e.status, 403);
  assert.match(e.message, /mismatch between instance-id values: request: {2}vs\. instance document: i-0abc/);
});

test('no sanURI attribute: an STS-attested registration succeeds with the STS-only lifetime', async () => {
  const checks: string[] = [];
  const r = await provider(checks).confirm(confirmation({ sanDNS, instanceId: 'i-0abc' }));
  assert.deepEqual(r, { attestedIdentity: ARN, certExpiryTime: 60 });
  assert.deepEqual(checks, [creds.access]);
});

test('a document without pendingTime cannot prove a recent boot at registration, but refreshes', async () => {
  const { pendingTime: _omitted, ...noBoot } = doc;
  const attrs = { sanDNS, instanceId: 'i-0abc' };
  const e = await refused(provider().confirm(confirmation(attrs, noBoot)));
  assert.equal(e.status, 403);
  assert.match(e.message, /Instance boot time is not recent enough: {2}\(register within 5 minutes of boot\)/);
  assert.deepEqual(await provider().refresh(confirmation(attrs, noBoot)), { attestedIdentity: ARN });
  // With pendingTime inside the window, registration passes: the refusal above is the missing field's.
  assert.deepEqual(await provider().confirm(confirmation(attrs, doc)), { attestedIdentity: ARN });
});
