/**
 * siad's socket: the SPIFFE Workload API and Envoy SDS (sds.ts) over gRPC on
 * one Unix socket (`-socket`, SPIFFE_ENDPOINT_SOCKET, Athenz's `-uds` /
 * sds_uds_path). Loaded only when a socket is configured (gRPC is not small).
 *
 * Who may connect: the socket is created owner-only (0600) in a directory
 * the workload shares with siad (an emptyDir in the pod, a volume in the
 * task): the pod or task is the trust boundary, as for the files. Every
 * Workload API call must carry the metadata `workload.spiffe.io: true`
 * (SPIFFE Workload Endpoint standard); without it the call is refused with
 * INVALID_ARGUMENT. Streams send the current identity at once and again on
 * every change; a client that goes away is unsubscribed and costs nothing.
 */
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { sdsHandlers } from './sds.ts';
import { toProtoStruct, validateJwtSvid, type JwtSource } from './jwt-svid.ts';
import type { IdentitySnapshot, WorkloadIdentity } from './workload-identity.ts';
import { derCertificates, pkcs8Der } from './pem.ts';

/** The .proto files: packages/sia/proto from the sources, dist/proto next to the bundle's chunks (both ../proto). */
const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

export interface SocketDeps {
  log: (line: string) => void;
  /** JWT-SVIDs and their keys (ZTS). */
  jwt: JwtSource;
}

export interface SocketServer {
  path: string;
  close(): Promise<void>;
}

const SECURITY_HEADER = 'workload.spiffe.io';

/** The standard's check: the header must be present and exactly "true". */
function securityHeaderProblem(call: { metadata: grpc.Metadata }): grpc.ServiceError | undefined {
  const v = call.metadata.get(SECURITY_HEADER);
  if (v.length === 1 && v[0] === 'true') return undefined;
  return Object.assign(new Error('security header missing from request'), {
    code: grpc.status.INVALID_ARGUMENT,
    details: `security header missing from request: set the metadata ${SECURITY_HEADER}: true (SPIFFE Workload Endpoint)`,
    metadata: new grpc.Metadata(),
  });
}

/** `spiffe://sports/sa/api` → `spiffe://sports`. */
export const trustDomainId = (spiffeId: string) => spiffeId.replace(/^(spiffe:\/\/[^/]+).*$/, '$1');

function x509SvidResponse(s: IdentitySnapshot) {
  const svid = s.svid!;
  return {
    svids: [{
      spiffe_id: svid.spiffeId,
      x509_svid: derCertificates(svid.certPem),
      x509_svid_key: pkcs8Der(svid.keyPem),
      bundle: derCertificates(s.bundlePem ?? ''),
      hint: '',
    }],
    crl: [],
    federated_bundles: {},
  };
}

function x509BundlesResponse(s: IdentitySnapshot) {
  return { crl: [], bundles: { [trustDomainId(s.svid!.spiffeId)]: derCertificates(s.bundlePem ?? '') } };
}

type Stream = grpc.ServerWritableStream<unknown, unknown>;

/**
 * A server stream that sends `render(snapshot)` now (once there is an SVID)
 * and again whenever what it renders from (`basis`) changed, until the client
 * goes away.
 */
function pushStream(identity: WorkloadIdentity, deps: SocketDeps, what: string, basis: (s: IdentitySnapshot) => unknown[], render: (s: IdentitySnapshot) => unknown) {
  return (call: Stream) => {
    const problem = securityHeaderProblem(call);
    if (problem) {
      call.emit('error', problem);
      return;
    }
    let last: unknown[] = [];
    const unsubscribe = identity.subscribe((s) => {
      const now = basis(s);
      if (!s.svid || call.cancelled || call.destroyed || now.every((v, i) => v === last[i])) return;
      last = now;
      call.write(render(s));
    });
    const gone = () => unsubscribe();
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', (e) => {
      gone();
      deps.log(`${what}: stream ended: ${e.message}`);
    });
  };
}

function grpcError(code: grpc.status, what: string): grpc.ServiceError {
  return Object.assign(new Error(what), { code, details: what, metadata: new grpc.Metadata() });
}

interface JwtSvidRequest { audience: string[]; spiffe_id: string }
interface ValidateRequest { audience: string; svid: string }

/** FetchJWTSVID, FetchJWTBundles and ValidateJWTSVID, backed by ZTS's JWT-SVIDs and key set. */
function jwtHandlers(identity: WorkloadIdentity, deps: SocketDeps) {
  const ours = () => identity.current().svid?.spiffeId ?? identity.current().service?.spiffeId;
  const unavailable = (e: unknown) => grpcError(grpc.status.UNAVAILABLE, `cannot reach ZTS for it: ${(e as Error).message}`);
  return {
    FetchJWTSVID(call: grpc.ServerUnaryCall<JwtSvidRequest, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const problem = securityHeaderProblem(call);
      if (problem) return cb(problem);
      const { audience, spiffe_id } = call.request;
      if (audience.length === 0 || audience.some((a) => a === '')) return cb(grpcError(grpc.status.INVALID_ARGUMENT, 'audience must be specified'));
      if (spiffe_id && spiffe_id !== ours()) return cb(grpcError(grpc.status.PERMISSION_DENIED, `this workload is ${ours() ?? 'not known yet'}, not ${spiffe_id}`));
      deps.jwt.fetch(audience).then(
        (r) => cb(null, { svids: [{ spiffe_id: r.spiffeId, svid: r.token, hint: '' }] }),
        (e: unknown) => cb(unavailable(e)),
      );
    },
    FetchJWTBundles(call: Stream) {
      const problem = securityHeaderProblem(call);
      if (problem) return call.emit('error', problem);
      let last = '';
      const push = (s: IdentitySnapshot) => {
        const id = s.svid?.spiffeId ?? s.service?.spiffeId;
        if (!id) return;
        deps.jwt.jwks().then(
          (jwks) => {
            const json = JSON.stringify(jwks);
            if (json === last || call.cancelled || call.destroyed) return;
            last = json;
            call.write({ bundles: { [trustDomainId(id)]: Buffer.from(json) } });
          },
          (e: unknown) => deps.log(`FetchJWTBundles: ${(e as Error).message}`),
        );
      };
      const unsubscribe = identity.subscribe(push);
      call.on('cancelled', () => unsubscribe());
      call.on('close', () => unsubscribe());
    },
    ValidateJWTSVID(call: grpc.ServerUnaryCall<ValidateRequest, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const problem = securityHeaderProblem(call);
      if (problem) return cb(problem);
      const { audience, svid } = call.request;
      if (!audience) return cb(grpcError(grpc.status.INVALID_ARGUMENT, 'audience must be specified'));
      if (!svid) return cb(grpcError(grpc.status.INVALID_ARGUMENT, 'svid must be specified'));
      deps.jwt.jwks().then(
        (jwks) => validateJwtSvid(svid, audience, jwks).then(
          (v) => cb(null, { spiffe_id: v.spiffeId, claims: toProtoStruct(v.claims as Record<string, unknown>) }),
          (e: unknown) => cb(grpcError(grpc.status.INVALID_ARGUMENT, `invalid JWT-SVID: ${(e as Error).message}`)),
        ),
        (e: unknown) => cb(unavailable(e)),
      );
    },
  };
}

/** Accepts `unix:///abs/path`, `unix:/abs/path` (SPIFFE_ENDPOINT_SOCKET's forms) or a plain path. */
export function socketPathOf(value: string): string {
  const path = value.replace(/^unix:(\/\/)?/, '');
  if (!path.startsWith('/')) throw new Error(`the socket must be an absolute path (unix:///path or /path), not "${value}"`);
  return path;
}

export async function startWorkloadSocket(path: string, identity: WorkloadIdentity, deps: SocketDeps): Promise<SocketServer> {
  const options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };
  const defs = grpc.loadPackageDefinition(loadSync(['workload.proto', 'envoy/sds.proto'], options));
  const api = defs.SpiffeWorkloadAPI as grpc.ServiceClientConstructor;
  const sds = ((defs.envoy as grpc.GrpcObject).service as grpc.GrpcObject).secret as grpc.GrpcObject;
  // The Secret message itself, to encode each resource into its Any.
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target));
  root.loadSync('envoy/secret.proto', { keepCase: true });
  const secretType = root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret');
  const server = new grpc.Server();
  server.addService(((sds.v3 as grpc.GrpcObject).SecretDiscoveryService as grpc.ServiceClientConstructor).service, sdsHandlers(identity, secretType, deps.log));
  server.addService(api.service, {
    FetchX509SVID: pushStream(identity, deps, 'FetchX509SVID', (s) => [s.svid, s.bundlePem], x509SvidResponse),
    FetchX509Bundles: pushStream(identity, deps, 'FetchX509Bundles', (s) => [s.bundlePem], x509BundlesResponse),
    ...jwtHandlers(identity, deps),
  });

  // Bound under a temporary name, made owner-only, then renamed into place: never reachable with wider permissions.
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  rmSync(path, { force: true });
  const staging = `${path}.${process.pid}.tmp`;
  rmSync(staging, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${staging}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(new Error(`cannot listen on ${path}: ${e.message}`)) : resolve())),
  );
  chmodSync(staging, 0o600);
  renameSync(staging, path);
  deps.log(`socket ${path}: SPIFFE Workload API and Envoy SDS (owner-only)`);
  return {
    path,
    close: () => new Promise<void>((resolve) => {
      server.tryShutdown(() => {
        rmSync(path, { force: true });
        resolve();
      });
      // Streams stay open until their clients go: end them.
      setImmediate(() => server.forceShutdown());
    }),
  };
}
