/**
 * TLS on by default: a dev CA and a server certificate for localhost are
 * created in the data dir on first start. The same CA verifies mTLS clients.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { loadOrCreateCa, writePrivateFile } from '@tessera/core/x509/ca';
import { issueServerTlsCertificate } from '@tessera/core/x509/issue';
import { parseCertificate } from '@tessera/core/x509/certificate';

export interface TlsMaterial {
  caCertPem: string;
  caKeyPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  caCertPath: string;
}

const SERVER_CERT_DAYS = 365;

export async function loadOrCreateTls(dataDir: string, now: Date): Promise<TlsMaterial> {
  const ca = await loadOrCreateCa(dataDir, { commonName: 'Tessera Dev CA', alg: 'ec', validityDays: 3650, now });
  const certPath = join(dataDir, 'server.cert.pem');
  const keyPath = join(dataDir, 'server.key.pem');
  const renew = !existsSync(certPath) || !existsSync(keyPath) || parseCertificate(readFileSync(certPath, 'utf8')).notAfter.getTime() < now.getTime() + 86_400_000;
  if (renew) {
    const server = await issueServerTlsCertificate(ca, { hostnames: ['localhost', hostname()], ips: ['127.0.0.1', '::1'], validityDays: SERVER_CERT_DAYS, now });
    writePrivateFile(keyPath, server.keyPem);
    writeFileSync(certPath, server.certPem);
  }
  return {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    serverCertPem: readFileSync(certPath, 'utf8'),
    serverKeyPem: readFileSync(keyPath, 'utf8'),
    caCertPath: join(dataDir, 'ca.cert.pem'),
  };
}
