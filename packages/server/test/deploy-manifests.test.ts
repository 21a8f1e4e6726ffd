/**
 * deploy/k8s validated against the Kubernetes API schemas (kubernetes-models),
 * and checked for what docs/deploy.md promises: non-root, probes on /readyz
 * and /healthz, the CA key from a Secret, a PodDisruptionBudget per
 * Deployment, Services and budgets that select their pods. And the container
 * image definition: multi-stage, compiled JS, non-root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, Secret, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

const ROOT = new URL('../../..', import.meta.url).pathname;
const K8S = join(ROOT, 'deploy/k8s');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, never>;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/Secret': Secret,
  'v1/Namespace': Namespace,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function load(text: string): Doc[] {
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Doc;
  });
}

const docs = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => load(readFileSync(join(K8S, f), 'utf8')).map((doc) => ({ file: f, doc })));
const ofKind = <T>(kind: string) => docs.filter((d) => d.doc.kind === kind).map((d) => d.doc as unknown as T);

function validate(doc: Doc): void {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  assert.ok(Model, `no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc as never).validate();
}

test('every manifest is valid against the Kubernetes schema', () => {
  assert.ok(docs.length >= 10);
  for (const { file, doc } of docs) {
    try {
      validate(doc);
    } catch (e) {
      assert.fail(`${file}: ${doc.kind} ${doc.metadata.name}: ${(e as Error).message}`);
    }
  }
});

test('the validator catches a wrong manifest', () => {
  const bad = structuredClone(ofKind<Deployment>('Deployment')[0]) as unknown as { spec: { replicas: unknown; template: { spec: { containers: { ports: unknown }[] } } } };
  bad.spec.replicas = 'two';
  assert.throws(() => validate(bad as unknown as Doc), /replicas/);
  const noPort = structuredClone(ofKind<Deployment>('Deployment')[0]) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort?: number }[] }[] } } } };
  delete noPort.spec.template.spec.containers[0].ports[0].containerPort;
  assert.throws(() => validate(noPort as unknown as Doc), /containerPort/);
});

test('ZMS and ZTS Deployments: replicas on PostgreSQL, non-root, probes, the CA key from a Secret', () => {
  const deployments = ofKind<Deployment>('Deployment');
  assert.deepEqual(deployments.map((d) => d.metadata!.name).sort(), ['tessera-zms', 'tessera-zts']);
  for (const d of deployments) {
    const service = d.metadata!.name!.replace('tessera-', '');
    assert.ok(d.spec!.replicas! >= 2, `${d.metadata!.name}: more than one replica`);
    const pod = d.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok(pod.securityContext!.runAsUser! > 0);
    const [c] = pod.containers;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.TESSERA_ONLY.value, service);
    assert.deepEqual(env.TESSERA_DB.valueFrom?.secretKeyRef, { name: 'tessera-db', key: 'url' });
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    const port = c.ports![0];
    assert.equal(String(port.containerPort), env[`TESSERA_${service.toUpperCase()}_PORT`].value);
    assert.deepEqual(c.readinessProbe?.httpGet, { scheme: 'HTTPS', path: '/readyz', port: port.name });
    assert.deepEqual(c.livenessProbe?.httpGet, { scheme: 'HTTPS', path: '/healthz', port: port.name });
    // The CA key: a file from the tessera-ca Secret, named by TESSERA_CA_KEY.
    const caVolume = pod.volumes!.find((v) => v.secret?.secretName === 'tessera-ca')!;
    const caMount = c.volumeMounts!.find((m) => m.name === caVolume.name)!;
    assert.equal(env.TESSERA_CA_KEY.value, `${caMount.mountPath}/ca.key.pem`);
    assert.ok(c.volumeMounts!.some((m) => m.mountPath === '/var/lib/tessera/zms.key.pem'), 'the shared signing key');
  }
  const secret = ofKind<Secret>('Secret').find((s) => s.metadata!.name === 'tessera-ca')!;
  assert.deepEqual(Object.keys(secret.stringData!).sort(), ['ca.cert.pem', 'ca.key.pem']);
});

test('each Deployment has a Service and a PodDisruptionBudget that select its pods', () => {
  const services = ofKind<Service>('Service');
  const budgets = ofKind<PodDisruptionBudget>('PodDisruptionBudget');
  for (const d of ofKind<Deployment>('Deployment')) {
    const labels = d.spec!.template.metadata!.labels!;
    const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    assert.deepEqual(d.spec!.selector.matchLabels, { 'app.kubernetes.io/name': d.metadata!.name });
    const svc = services.find((s) => s.metadata!.name === d.metadata!.name)!;
    assert.ok(svc && selects(svc.spec!.selector!), `Service for ${d.metadata!.name}`);
    assert.equal(svc.spec!.ports![0].targetPort, d.spec!.template.spec!.containers[0].ports![0].name);
    const pdb = budgets.find((b) => b.metadata!.name === d.metadata!.name)!;
    assert.ok(pdb && selects(pdb.spec!.selector!.matchLabels!), `PodDisruptionBudget for ${d.metadata!.name}`);
    assert.ok(Number(pdb.spec!.minAvailable) < d.spec!.replicas!, 'a node can still be drained');
  }
});

test('the image: multi-stage, compiled JS run by node, a non-root user', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
  assert.equal(stages.length, 2);
  assert.match(dockerfile, /^RUN npm run build\b/m);
  assert.match(dockerfile, /^COPY --from=build \/src\/packages\/server\/dist /m);
  // The image starts the server exactly as `npm start` does (same node options).
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start.split(' ');
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]) as string[];
  assert.deepEqual(entrypoint, start.slice(0, -1));
  assert.equal(entrypoint.at(-1), 'packages/server/dist/tessera.mjs');
  assert.match(dockerfile, /^USER 10001:10001$/m);
  assert.doesNotMatch(dockerfile, /tsx/, 'no TypeScript at run time');
  // The manifests run the image as the same user.
  for (const d of ofKind<Deployment>('Deployment')) assert.equal(d.spec!.template.spec!.securityContext!.runAsUser, 10001);
});
