/**
 * The baseline for bench/access-token.ts: the least a token server can do —
 * an mTLS HTTPS server that signs an ES256 JWT with jose for the client
 * certificate's CN, with no scope parsing, no role check and no binding.
 * Whatever ZTS costs above this is its own work.
 *
 *   node --import tsx bench/peers/jose-token-server.ts <port> <ca.pem> <cert.pem> <key.pem>
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { SignJWT } from 'jose';

const [port, ca, cert, key] = process.argv.slice(2);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const server = createServer({ ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), requestCert: true, rejectUnauthorized: true }, (req, res) => {
  req.resume();
  req.on('end', async () => {
    const sub = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ scp: ['readers'] }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).setSubject(String(sub)).setJti(randomUUID()).setIssuedAt(iat).setExpirationTime(iat + 3600).sign(privateKey);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: jwt, token_type: 'Bearer', expires_in: 3600 }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
