/**
 * TLS on by default: a dev CA and a server certificate for localhost are
 * created in the data dir on first start. The same CA verifies mTLS clients.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { loadOrCreateCa, writePrivateFile, type CertificateAuthority } from '@tessera/core/x509/ca';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
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

export interface CaSettings {
  /** Key type of a CA created on first start. */
  alg: 'ec' | 'rsa';
  /** An existing CA (both PEM files); otherwise one is created in the data dir. */
  certFile?: string;
  keyFile?: string;
  /** More DNS names for the server certificate (a Kubernetes Service's, a load balancer's). */
  serverNames?: string[];
}

function readCa(s: CaSettings): CertificateAuthority {
  try {
    const ca = { certPem: readFileSync(s.certFile!, 'utf8'), keyPem: readFileSync(s.keyFile!, 'utf8') };
    if (!keyMatchesCertificate(ca.keyPem, ca.certPem)) throw new Error('the key does not belong to the certificate');
    return ca;
  } catch (e) {
    throw new Error(`CA ${s.certFile} / ${s.keyFile}: ${(e as Error).message}`);
  }
}

export async function loadOrCreateTls(dataDir: string, now: Date, caSettings: CaSettings = { alg: 'ec' }): Promise<TlsMaterial> {
  const ca = caSettings.certFile
    ? readCa(caSettings)
    : await loadOrCreateCa(dataDir, { commonName: 'Tessera Dev CA', alg: caSettings.alg, validityDays: 3650, now });
  if (caSettings.certFile) writeFileSync(join(dataDir, 'ca.cert.pem'), ca.certPem);
  const certPath = join(dataDir, 'server.cert.pem');
  const keyPath = join(dataDir, 'server.key.pem');
  const renew = !existsSync(certPath) || !existsSync(keyPath) || parseCertificate(readFileSync(certPath, 'utf8')).notAfter.getTime() < now.getTime() + 86_400_000;
  if (renew) {
    const server = await issueServerTlsCertificate(ca, { hostnames: ['localhost', hostname(), ...(caSettings.serverNames ?? [])], ips: ['127.0.0.1', '::1'], validityDays: SERVER_CERT_DAYS, now });
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
