/**
 * Envoy SDS v3 (`envoy.service.secret.v3.SecretDiscoveryService`) on siad's
 * socket, beside the Workload API. Resource names:
 *   - `default` and the service's SPIFFE ID: a TLS certificate secret with the
 *     Athenz service certificate and key (the files' content);
 *   - `ROOTCA` (SPIRE's name) and Athenz's `spiffe://<td>/ns/athenz/ca/default`:
 *     a validation context with the CA bundle;
 *   - a role name `<domain>:role.<role>`: that role certificate and its key.
 * Unknown names are left out of the answer (logged once per stream), as
 * Athenz's SIA does. Envoy does not send the Workload API header, so none is
 * asked for here.
 *
 * StreamSecrets is state-of-the-world xDS: the first request (and any that
 * changes the names) is answered at once; a later one that carries the last
 * nonce is an ACK, or a NACK when it has error_detail: logged and NOT answered
 * again, so a secret Envoy rejects is not resent in a loop; the next rotation
 * sends a new version. A request with an old nonce is ignored.
 */
import { randomBytes } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { IdentitySnapshot, WorkloadIdentity } from './workload-identity.ts';

export const SECRET_TYPE_URL = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
const ATHENZ_CA_NAME = /^spiffe:\/\/[^/]+\/ns\/athenz\/ca\/default$/;

interface DiscoveryRequest {
  version_info: string;
  node?: { id: string; cluster: string } | null;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { code: number; message: string } | null;
}

interface DiscoveryResponse {
  version_info: string;
  resources: { type_url: string; value: Buffer }[];
  type_url: string;
  nonce: string;
}

/** The secret for `name` in the snapshot, or undefined when siad has none by that name (yet). */
function secretFor(name: string, s: IdentitySnapshot): Record<string, unknown> | undefined {
  const inline = (pem: string) => ({ inline_bytes: Buffer.from(pem) });
  const tls = (c: { certPem: string; keyPem: string }) => ({ name, tls_certificate: { certificate_chain: inline(c.certPem), private_key: inline(c.keyPem) } });
  if (s.service && (name === 'default' || name === s.service.spiffeId)) return tls(s.service);
  if (s.bundlePem && (name === 'ROOTCA' || ATHENZ_CA_NAME.test(name))) return { name, validation_context: { trusted_ca: inline(s.bundlePem) } };
  const role = s.roles.get(name);
  return role ? tls(role) : undefined;
}

export function sdsHandlers(identity: WorkloadIdentity, secretType: protobuf.Type, log: (line: string) => void) {
  const nameOf = (req: DiscoveryRequest) => (req.node?.id ? `Envoy ${req.node.id}${req.node.cluster ? ` (${req.node.cluster})` : ''}` : 'Envoy');
  const respond = (names: string[], s: IdentitySnapshot, missing: Set<string>, who: string): DiscoveryResponse => {
    const resources = [];
    for (const name of names.length > 0 ? names : ['default', 'ROOTCA']) {
      const secret = secretFor(name, s);
      if (secret) resources.push({ type_url: SECRET_TYPE_URL, value: Buffer.from(secretType.encode(secretType.fromObject(secret)).finish()) });
      else if (!missing.has(name)) {
        missing.add(name);
        log(`SDS: ${who} asked for "${name}", which siad does not have (default, ROOTCA, the SPIFFE ID, or a role name)`);
      }
    }
    return { version_info: String(s.version), resources, type_url: SECRET_TYPE_URL, nonce: randomBytes(8).toString('hex') };
  };

  return {
    FetchSecrets(call: grpc.ServerUnaryCall<DiscoveryRequest, DiscoveryResponse>, cb: grpc.sendUnaryData<DiscoveryResponse>) {
      cb(null, respond(call.request.resource_names, identity.current(), new Set(), nameOf(call.request)));
    },

    StreamSecrets(call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) {
      let names: string[] | undefined;
      let lastNonce = '';
      // What the last answer was built from: a new one goes out only when one of these changed.
      let basis: unknown[] = [];
      let who = 'Envoy';
      const missing = new Set<string>();
      const send = (s: IdentitySnapshot) => {
        if (names === undefined || call.cancelled || call.destroyed) return;
        const now = [s.service, s.bundlePem, ...names.map((n) => s.roles.get(n))];
        if (now.length === basis.length && now.every((v, i) => v === basis[i])) return;
        const res = respond(names, s, missing, who);
        // Nothing by those names yet: wait for the identity instead of sending an empty answer.
        if (res.resources.length === 0) return;
        basis = now;
        lastNonce = res.nonce;
        call.write(res);
      };
      const unsubscribe = identity.subscribe(send);
      call.on('data', (req: DiscoveryRequest) => {
        who = nameOf(req);
        if (req.response_nonce && req.response_nonce !== lastNonce) return; // an answer to an older response
        if (req.error_detail && req.error_detail.code !== 0) {
          log(`SDS: ${who} rejected version ${req.version_info || '(none)'} of ${req.resource_names.join(', ')}: ${req.error_detail.message}; not resent until the next rotation`);
          return;
        }
        const changed = names === undefined || names.join('\n') !== req.resource_names.join('\n');
        names = req.resource_names;
        if (changed) {
          basis = [];
          send(identity.current());
        }
      });
      const gone = () => unsubscribe();
      call.on('cancelled', gone);
      call.on('close', gone);
      call.on('end', () => {
        gone();
        call.end();
      });
      call.on('error', gone);
    },
  };
}
