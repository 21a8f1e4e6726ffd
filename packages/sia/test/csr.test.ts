/** The names in siad's CSRs, as Athenz SIA puts them, checked in a real CSR. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { parseCsr } from '@tessera/core/x509/csr';
import { buildCsr, k8sDnsNames, roleCsrNames, serviceCsrNames } from '../src/csr.ts';

const base = { domain: 'media.news', service: 'api', provider: 'athenz.aws.us-west-2', instanceId: 'i-1', dnsDomains: ['aws.example.com', 'example.net'] };

test('service CSR: CN, OU, DNS per suffix (wildcard, cnames, de-duplicated), SPIFFE first', async () => {
  const names = serviceCsrNames({ ...base, wildcard: true, cnames: ['api.example.org', 'api.news-media.example.net'] });
  assert.deepEqual(names.dnsNames, [
    'api.media-news.aws.example.com', '*.api.media-news.aws.example.com',
    'api.media-news.example.net', '*.api.media-news.example.net', 'api.example.org', 'api.news-media.example.net',
  ]);
  assert.deepEqual(names.uris, ['spiffe://media.news/sa/api', 'athenz://instanceid/athenz.aws.us-west-2/i-1']);
  const csr = await parseCsr(await buildCsr(generateKeyPair('rsa').privateKeyPem, names));
  assert.equal(csr.commonName, 'media.news.api');
  assert.equal(csr.organizationalUnit, 'athenz.aws.us-west-2');
  assert.equal(csr.keyAlgorithm, 'rsa');
  assert.ok(csr.signatureValid);
  assert.deepEqual(csr.uris, names.uris);
});

test('SPIFFE trust domain: namespaced form only with a namespace', () => {
  assert.equal(serviceCsrNames({ ...base, spiffeTrustDomain: 'td', namespace: 'prod' }).uris[0], 'spiffe://td/ns/prod/sa/media.news.api');
  assert.equal(serviceCsrNames({ ...base, spiffeTrustDomain: 'td' }).uris[0], 'spiffe://media.news/sa/api');
  assert.equal(roleCsrNames({ role: 'sports:role.readers', principal: 'media.news.api', provider: 'p', instanceId: 'i', spiffeTrustDomain: 'td' }).uris[0], 'spiffe://td/ns/sports/ra/readers');
});

test('role CSR: CN the role, URIs role, instance, principal; ECDSA keys work too', async () => {
  const names = roleCsrNames({ role: 'sports:role.readers', principal: 'media.news.api', provider: 'athenz.aws.us-west-2', instanceId: 'i-1' });
  assert.deepEqual(names.uris, ['spiffe://sports/ra/readers', 'athenz://instanceid/athenz.aws.us-west-2/i-1', 'athenz://principal/media.news.api']);
  assert.deepEqual(names.dnsNames, []);
  const csr = await parseCsr(await buildCsr(generateKeyPair('ec').privateKeyPem, names));
  assert.equal(csr.commonName, 'sports:role.readers');
  assert.equal(csr.keyAlgorithm, 'ec');
  assert.throws(() => roleCsrNames({ role: 'sports.readers', principal: 'a.b', provider: 'p', instanceId: 'i' }), /<domain>:role.<role>/);
});

test('Kubernetes names from the pod variables, only with a namespace', () => {
  const env = { ATHENZ_SIA_POD_IP: '10.1.2.3', ATHENZ_SIA_POD_SERVICE: 'api', ATHENZ_SIA_POD_HOSTNAME: 'api-0', ATHENZ_SIA_POD_SUBDOMAIN: 'pods' };
  assert.deepEqual(k8sDnsNames(env, 'prod'), [
    '10-1-2-3.prod.pod.cluster.local', '10-1-2-3.api.prod.pod.cluster.local', 'api-0.pods.prod.svc.cluster.local',
    'api.prod.svc.cluster.local', 'api.prod.svc',
  ]);
  assert.deepEqual(k8sDnsNames(env, undefined), []);
  assert.deepEqual(k8sDnsNames({}, 'prod'), []);
});
