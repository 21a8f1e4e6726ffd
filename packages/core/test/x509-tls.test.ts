/** Issued certificates in real TLS handshakes: the dev server certificate and mutual auth with service/role certs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCertificateAuthority, type CertificateAuthority } from '../src/x509/ca.ts';
import { issueCertificate, issueServerTlsCertificate, type CertificateUsage } from '../src/x509/issue.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { generateKeyPair, type KeyAlgorithm } from '../src/x509/keys.ts';
import { tlsPeer, tlsPeerCertificate, tlsPrincipal } from '../src/x509/tls-principal.ts';
import { daysFromNow, now } from './x509-support.ts';

interface Client {
  keyPem?: string;
  certPem?: string;
}

/**
 * An mTLS server trusting only `ca`; it answers with the client's CN. A strict
 * server refuses unverified clients in the handshake (as Tessera does); a
 * lenient one lets them through with the reason, so the tests can check why.
 */
async function startServer(ca: CertificateAuthority, strict: boolean): Promise<{ server: Server; port: number }> {
  const tlsCert = await issueServerTlsCertificate(ca, { hostnames: ['localhost'], ips: ['127.0.0.1', '::1'], validityDays: 1, now });
  const server = createServer({ key: tlsCert.keyPem, cert: tlsCert.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: strict }, (req, res) => {
    const socket = req.socket as TLSSocket;
    res.end(JSON.stringify({ authorized: socket.authorized, cn: socket.getPeerCertificate().subject?.CN, error: socket.authorizationError?.toString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, host: string, trust: string, client: Client): Promise<{ authorized: boolean; cn?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', ca: trust, key: client.keyPem, cert: client.certPem, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A service (or role) certificate issued from a CSR, as siad would get it. */
async function clientCert(ca: CertificateAuthority, alg: KeyAlgorithm, commonName: string, usage: CertificateUsage): Promise<Client> {
  const key = generateKeyPair(alg);
  const csr = await parseCsr(await createCsr({ keyPem: key.privateKeyPem, subject: { commonName }, uris: ['spiffe://sports/sa/api'] }));
  const { certPem } = await issueCertificate({
    ca, publicKeyPem: csr.publicKeyPem, subject: { commonName: csr.commonName }, uris: csr.uris, notBefore: now, notAfter: daysFromNow(1), usage,
  });
  return { keyPem: key.privateKeyPem, certPem };
}

for (const caAlg of ['ec', 'rsa'] as const) {
  test(`mutual TLS with a ${caAlg} CA: service and role certificates authenticate, others do not`, async () => {
    const ca = await createCertificateAuthority({ commonName: 'TLS Test CA', alg: caAlg, validityDays: 2, now });
    const { server, port } = await startServer(ca, true);
    const lenient = await startServer(ca, false);
    try {
      // The server certificate verifies by name and by IP.
      for (const host of ['localhost', '127.0.0.1']) {
        const service = await clientCert(ca, caAlg === 'ec' ? 'rsa' : 'ec', 'sports.api', 'client-server');
        assert.deepEqual(await get(port, host, ca.certPem, service), { authorized: true, cn: 'sports.api' });
      }
      const role = await clientCert(ca, 'ec', 'sports:role.readers', 'client');
      assert.deepEqual(await get(port, '127.0.0.1', ca.certPem, role), { authorized: true, cn: 'sports:role.readers' });

      // No client certificate, one from another CA (same name, other key), or one not meant for client auth:
      // refused in the handshake, for the reason the lenient server reports.
      const stranger = await createCertificateAuthority({ commonName: 'TLS Test CA', alg: caAlg, validityDays: 2, now });
      const refused: Array<[Client, RegExp]> = [
        [{}, /.*/], // Node reports no specific reason for a missing certificate
        [await clientCert(stranger, 'ec', 'sports.api', 'client-server'), /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_SIGNATURE_FAILURE)$/],
        [await clientCert(ca, 'ec', 'sports.api', 'server'), /^INVALID_PURPOSE$/],
      ];
      for (const [client, reason] of refused) {
        await assert.rejects(get(port, '127.0.0.1', ca.certPem, client));
        const seen = await get(lenient.port, '127.0.0.1', ca.certPem, client);
        assert.equal(seen.authorized, false);
        assert.match(seen.error ?? '', reason);
      }

      // A client that trusts another CA refuses the server.
      await assert.rejects(get(port, '127.0.0.1', stranger.certPem, role), /signature failure|self-signed|unable to verify/i);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => lenient.server.close(resolve));
    }
  });
}

test('tlsPrincipal, tlsPeerCertificate and tlsPeer\'s thumbprint: the verified client certificate, read once per connection', async () => {
  const ca = await createCertificateAuthority({ commonName: 'Principal CA', alg: 'ec', validityDays: 2, now });
  const tlsCert = await issueServerTlsCertificate(ca, { hostnames: ['localhost'], ips: ['127.0.0.1'], validityDays: 1, now });
  const server = createServer({ key: tlsCert.keyPem, cert: tlsCert.certPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    res.end(JSON.stringify({ principal: tlsPrincipal(socket) ?? null, uris: tlsPeerCertificate(socket)?.uris ?? null, thumbprint: tlsPeer(socket).thumbprint ?? null, port: socket.remotePort }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const ask = (agent: Agent) => new Promise<{ principal: string | null; uris: string[] | null; thumbprint: string | null; port: number }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject).end();
  });
  try {
    const service = await clientCert(ca, 'rsa', 'Sports.API', 'client');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem, key: service.keyPem, cert: service.certPem });
    const first = await ask(agent);
    const second = await ask(agent);
    // The thumbprint is the SHA-256 of the certificate's DER (an access token's x5t#S256).
    const thumbprint = createHash('sha256').update(new X509Certificate(service.certPem!).raw).digest('base64url');
    assert.deepEqual(first, { principal: 'sports.api', uris: ['spiffe://sports/sa/api'], thumbprint, port: first.port });
    assert.deepEqual(second, first, 'the same connection, the same identity');
    agent.destroy();

    const stranger = await createCertificateAuthority({ commonName: 'Principal CA', alg: 'ec', validityDays: 2, now });
    const other = await clientCert(stranger, 'ec', 'sports.api', 'client');
    const unverified = new Agent({ ca: ca.certPem, key: other.keyPem, cert: other.certPem });
    assert.deepEqual({ ...(await ask(unverified)), port: 0 }, { principal: null, uris: null, thumbprint: null, port: 0 });
    unverified.destroy();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
