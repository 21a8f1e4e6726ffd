/**
 * The attacker's bench: a real tessera server and aws-sim, domain `sports`
 * (AWS account, services api and web allowed on the AWS provider, role
 * readers with sports.api), and helpers that send hand-made CSRs and
 * attestation to ZTS over real HTTPS.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import type { Subject } from '@tessera/core/x509/names';
import type { HttpsResponse } from '@tessera/core/https-client';
import { startTestServer, type Backend, type TestServer } from '@tessera/server/test/support/test-server';
import type { ServeFlags } from '@tessera/server/server-config';
import { assumeRole, attestation, withEnv, ztsCall, type AwsCreds } from '@tessera/server/test/support/workload';

export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '210987654321';
export const PROVIDER = 'athenz.aws.us-west-2';
export const SUFFIX = 'aws.athenz.cloud';
export const API_DNS = `api.sports.${SUFFIX}`;

export type Reply = HttpsResponse<Record<string, string>>;
export interface Identity {
  cert: string;
  key: string;
}

export interface CsrSpec {
  subject?: Subject;
  dnsNames?: string[];
  uris?: string[];
  ipAddresses?: string[];
  emails?: string[];
  keyPem?: string;
}

export interface Bench {
  sim: AwsSim;
  t: TestServer;
  /** Moves aws-sim's clock (e.g. to launch an instance that booted hours ago). */
  setSimOffset(ms: number): void;
  /** Credentials of `sports.<service>` assumed from a new Fargate task; the session name differs per task. */
  fargate(service?: string): Promise<{ creds: AwsCreds; taskId: string }>;
  csr(spec: CsrSpec): Promise<{ csr: string; keyPem: string }>;
  /** The CSR siad would send for sports.<service> and this instance id, with `change` applied. */
  serviceCsr(instanceId: string, change?: CsrSpec & { service?: string }): Promise<{ csr: string; keyPem: string }>;
  register(body: Record<string, unknown>): Promise<Reply>;
  /** A good register of sports.api (or `service`) for a fresh Fargate task. */
  registered(service?: string): Promise<{ id: Identity; instanceId: string; creds: AwsCreds }>;
  refresh(path: { instanceId: string; service?: string; provider?: string }, body: Record<string, unknown>, mtls?: Identity): Promise<Reply>;
  roleCert(body: Record<string, unknown>, mtls?: Identity, path?: string): Promise<Reply>;
  close(): Promise<void>;
}

/** `now` is ZTS's clock (the default: the machine's). */
export async function startBench(dir: string, o: { backend?: Backend; flags?: ServeFlags; documentCert?: boolean; now?: () => Date } = {}): Promise<Bench> {
  let offset = 0;
  const sim = await startAwsSim({ clock: () => new Date(Date.now() + offset) });
  const docCert = join(dir, 'aws-doc.pem');
  writeFileSync(docCert, sim.identityDocumentCertPem);
  const t = await startTestServer(o.backend ?? 'sqlite', {
    awsStsEndpoint: sim.url,
    ...(o.documentCert === false ? {} : { awsDocumentCert: docCert }),
    ...o.flags,
  }, o.now ? { now: o.now } : {});
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/service/web', { name: 'sports.web' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'web' }] }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.task', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  for (const service of ['api', 'web']) {
    await iam.send(new CreateRoleCommand({ RoleName: `sports.${service}`, AssumeRolePolicyDocument: awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.task`]) }));
  }
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.vm', AssumeRolePolicyDocument: serviceTrustPolicy('ec2.amazonaws.com') }));
  iam.destroy();
  const otherIam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(OTHER_ACCOUNT, { userName: 'admin' }) });
  await otherIam.send(new CreateRoleCommand({ RoleName: 'sports.vm', AssumeRolePolicyDocument: serviceTrustPolicy('ec2.amazonaws.com') }));
  otherIam.destroy();

  const zts = (method: string, path: string, body: unknown, mtls?: Identity) =>
    ztsCall(t.server.ztsUrl, t.ca, method, path, body, mtls) as Promise<Reply>;

  const bench: Bench = {
    sim,
    t,
    setSimOffset: (ms) => {
      offset = ms;
    },
    async fargate(service = 'api') {
      const task = await sim.launchFargateTask({ taskRole: 'sports.task', account: ACCOUNT, region: 'us-west-2', cluster: 'prod' });
      const base = await withEnv(task.env, () => fromContainerMetadata()());
      const creds = await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.${service}`, task.taskId);
      return { creds, taskId: task.taskId };
    },
    async csr(spec) {
      const keyPem = spec.keyPem ?? generateKeyPair('ec').privateKeyPem;
      const csr = await createCsr({
        keyPem,
        subject: spec.subject ?? { commonName: 'sports.api' },
        dnsNames: spec.dnsNames ?? [],
        uris: spec.uris ?? [],
        ipAddresses: spec.ipAddresses ?? [],
        emails: spec.emails ?? [],
      });
      return { csr, keyPem };
    },
    serviceCsr(instanceId, change = {}) {
      const service = change.service ?? 'api';
      return bench.csr({
        subject: { commonName: `sports.${service}`, organizationalUnit: PROVIDER },
        dnsNames: [`${service}.sports.${SUFFIX}`],
        uris: [`spiffe://sports/sa/${service}`, `athenz://instanceid/${PROVIDER}/${instanceId}`],
        ...change,
      });
    },
    register: (body) => zts('POST', '/instance', body),
    async registered(service = 'api') {
      const { creds, taskId } = await bench.fargate(service);
      const { csr, keyPem } = await bench.serviceCsr(taskId, { service });
      const r = await bench.register({ provider: PROVIDER, domain: 'sports', service, csr, attestationData: attestation(`sports.${service}`, creds) });
      assert.equal(r.status, 201, r.text);
      return { id: { cert: r.body.x509Certificate, key: keyPem }, instanceId: taskId, creds };
    },
    refresh: (p, body, mtls) => zts('POST', `/instance/${p.provider ?? PROVIDER}/sports/${p.service ?? 'api'}/${p.instanceId}`, body, mtls),
    roleCert: (body, mtls, path = '/rolecert') => zts('POST', path, body, mtls),
    async close() {
      await t.close();
      await sim.close();
    },
  };
  return bench;
}

/** A refusal: the status and a message matching `message`. */
export function refused(r: Reply, status: number, message: RegExp): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(r.body.code as unknown, status, r.text);
  assert.match(r.body.message, message);
}

export { attestation };
