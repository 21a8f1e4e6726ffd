/**
 * The floor under every ZTS request: a Node HTTPS server with ZTS's TLS
 * options (its key and certificate, client certificates asked for, no session
 * tickets) answering a fixed JSON body, bare (`node`) or through Fastify
 * (`fastify`). Prints its port on stdout.
 *
 *   node --import tsx bench/peers/bare-https-server.ts <node|fastify> <data dir of a tessera serve>
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerOptions } from 'node:https';
import { constants } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

const [kind, dataDir] = process.argv.slice(2);
const tls: ServerOptions = {
  key: readFileSync(join(dataDir, 'server.key.pem')),
  cert: readFileSync(join(dataDir, 'server.cert.pem')),
  ca: readFileSync(join(dataDir, 'ca.cert.pem')),
  requestCert: true,
  rejectUnauthorized: false,
  secureOptions: constants.SSL_OP_NO_TICKET,
};
const body = '{"status":"ok"}';
if (kind === 'node') {
  const server = createServer(tls, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  server.listen(0, '127.0.0.1', () => console.log(`port ${(server.address() as AddressInfo).port}`));
} else if (kind === 'fastify') {
  const app = Fastify({ https: tls });
  app.get('/', async (_req, reply) => reply.type('application/json').send(body));
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`port ${(app.server.address() as AddressInfo).port}`);
} else {
  throw new Error('the first argument is node or fastify');
}
