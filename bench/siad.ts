/**
 * siad's weight as a sidecar: wall time and peak memory of the bundle's
 * `-version` and of `-cmd post` (a Fargate task registering with a local
 * ZTS through aws-sim), next to a bare `node -e 0` in the same run; then the
 * daemon's resident memory after a number of refreshes.
 *
 *   node --import tsx bench/siad.ts [--runs N] [--refreshes N] [--plain-sts] [--node <path>]
 *
 * Each daemon refresh is at least a second apart (siad's floor), so
 * --refreshes sets the run time: the default keeps it under a minute, the
 * figures in docs/benchmarks.md use --refreshes 1000 (about 20 minutes).
 * Every siad row is measured twice: `node siad.mjs`, and with the V8 flags
 * the container image starts node with (IMAGE_NODE_FLAGS). Three daemons run
 * side by side: a Fargate task's (STS attestation) both ways, and an EKS
 * pod's with the image flags, attesting with its projected token; each one's
 * RSS is the median of samples taken at its last tenth of refreshes.
 * The Fargate task reaches STS over HTTPS (bench/support/tls-front.ts in
 * front of aws-sim), as on AWS; --plain-sts keeps aws-sim's plain HTTP.
 * --node runs siad and the bare row on another Node (e.g. .tools/node24/node_modules/node/bin/node,
 * which scripts/test-node24.sh --prepare installs); the bench itself stays on this one.
 * Peak memory comes from /usr/bin/time (Debian's `time` package).
 * BENCH_SIAD_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", go before siad's bundle (to profile it).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { startTestServer } from '@tessera/server/test/support/test-server';
import { processStats } from './support/process.ts';
import { startTlsFront } from './support/tls-front.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const ACCOUNT = '123456789012';
const TIME = '/usr/bin/time';

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    refreshes: { type: 'string', default: '30' },
    'plain-sts': { type: 'boolean', default: false },
    node: { type: 'string', default: process.execPath },
  },
});
const RUNS = Number(opts.runs);
const REFRESHES = Number(opts.refreshes);
if (!(RUNS > 0 && REFRESHES > 0)) throw new Error('--runs and --refreshes take positive numbers');
/** A daemon's RSS is sampled at each of its last SAMPLED refreshes: one sample moves by about ±0.5 MB with where V8's pages stand. */
const SAMPLED = Math.max(1, Math.ceil(REFRESHES / 10));
if (!existsSync(TIME)) throw new Error(`${TIME} is missing: apt-get install time`);

execFileSync(process.execPath, [join(ROOT, 'packages/sia/build.mjs')], { stdio: 'inherit' });
const SIAD = join(ROOT, 'packages/sia/dist/siad.mjs');
const EXTRA = process.env.BENCH_SIAD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const NODE = opts.node;
/**
 * The node flags of docs/examples/Dockerfile's ENTRYPOINT (docs/benchmarks.md says why). Node 24 refuses
 * --no-expose-wasm ("bad option") and does not need it: its --lite-mode does not warn about WebAssembly.
 */
const IMAGE_NODE_FLAGS = ['--lite-mode', ...(spawnSync(NODE, ['--lite-mode', '--no-expose-wasm', '-e', '0']).status === 0 ? ['--no-expose-wasm'] : [])];
const LAUNCHES: [string, string[]][] = [
  ['', [...EXTRA, SIAD]],
  [' [image flags]', [...IMAGE_NODE_FLAGS, ...EXTRA, SIAD]],
];

/** One run under /usr/bin/time: wall seconds and peak RSS (MB). */
function measure(args: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TIME, ['-f', 'BENCH %e %M', NODE, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const m = /BENCH ([\d.]+) (\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`${args.join(' ')} failed (${code}):\n${err}`));
      resolve({ wall: Number(m[1]), peakMb: Number(m[2]) / 1024 });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function row(name: string, run: () => Promise<{ wall: number; peakMb: number }>): Promise<void> {
  const results = [];
  for (let i = 0; i < RUNS; i++) results.push(await run());
  const wall = median(results.map((r) => r.wall));
  const peak = median(results.map((r) => r.peakMb));
  console.log(`${name.padEnd(52)} ${wall.toFixed(2).padStart(6)} s ${peak.toFixed(0).padStart(6)} MB`);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-siad-'));
const sim = await startAwsSim({ filesDir: join(dir, 'sim') });
writeFileSync(join(dir, 'aws-doc.pem'), sim.identityDocumentCertPem);
// ZTS's own AWS identity, for reading the account's OIDC providers (the EKS daemon's projected token).
const ztsKey = sim.createAccessKey('999999999999', { userName: 'zts' });
Object.assign(process.env, { AWS_ACCESS_KEY_ID: ztsKey.accessKeyId, AWS_SECRET_ACCESS_KEY: ztsKey.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
const t = await startTestServer('sqlite', {
  awsStsEndpoint: sim.url, awsIamEndpoint: sim.url, awsOidcEndpoint: `${sim.url}/oidc`, awsDocumentCert: join(dir, 'aws-doc.pem'),
});
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, t.ca);
// siad reaches STS over HTTPS, as on AWS (its trust store loaded too), served with ZTS's own certificate; --plain-sts for aws-sim's plain HTTP.
const stsFront = opts['plain-sts'] ? undefined : await startTlsFront(sim.url, {
  key: readFileSync(join(t.dataDir, 'server.key.pem')), cert: readFileSync(join(t.dataDir, 'server.cert.pem')),
});
try {
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    if (r.status >= 300) throw new Error(`${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-pod', AssumeRolePolicyDocument: podIdentityTrustPolicy() }));
  await iam.send(new CreateRoleCommand({ RoleName: 'oidc-issuers-reader', AssumeRolePolicyDocument: awsTrustPolicy(ztsKey.arn) }));
  await iam.send(new CreateRoleCommand({
    RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.api-service`, `arn:aws:iam::${ACCOUNT}:role/sports.api-pod`]),
  }));
  sim.eksCluster({ account: ACCOUNT, cluster: 'prod' });
  iam.destroy();
  const fargateTask = async () => {
    const { env } = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    return stsFront ? { ...env, AWS_ENDPOINT_URL_STS: stsFront.url, NODE_EXTRA_CA_CERTS: caFile } : env;
  };
  const postTask = await fargateTask();
  const pod = await sim.launchEksPod({
    mode: 'pod-identity', role: 'sports.api-pod', account: ACCOUNT, cluster: 'prod', namespace: 'sports', serviceAccount: 'sports.api', tokenAudience: t.server.ztsUrl,
  });
  const zts = new URL(t.server.ztsUrl);
  const common = (siadir: string) => ['-zts', zts.hostname, '-ztsport', zts.port, '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud',
    '-providerprefix', 'athenz.aws', '-siadir', siadir, '-config', '/nonexistent/sia_config'];

  const version = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`${`siad (bundle) on Node ${version}, median of ${RUNS} runs`.padEnd(52)}   wall   peak RSS`);
  await row('node -e 0 (bare Node)', () => measure(['-e', '0'], {}));
  let n = 0;
  for (const [label, args] of LAUNCHES) {
    await row(`siad -version${label}`, () => measure([...args, '-version'], {}));
    await row(`siad -cmd post${label} (Fargate, local ZTS)`, () => measure([...args, ...common(join(dir, `post-${n++}`)), '-cmd', 'post'], postTask));
  }

  // The daemons, side by side: refreshes as fast as siad allows (refresh_interval 0.001 min → its one-second floor).
  // The EKS pod's daemon attests with its projected token (no AWS SDK call on the way), the others by STS.
  const [[, plain], [, imageFlags]] = LAUNCHES;
  // Each daemon is its own task: two on one instance id would each revoke the other's certificate at every register.
  const runs = [
    { label: ' (Fargate)', args: plain, env: await fargateTask(), method: 'sts' },
    { label: ' [image flags] (Fargate)', args: imageFlags, env: await fargateTask(), method: 'sts' },
    { label: ' [image flags] (EKS)', args: imageFlags, env: { ...pod.env, ATHENZ_SIA_POD_NAMESPACE: pod.namespace }, method: 'eks-token' },
  ];
  const daemons = runs.map(({ label, args, env, method }, i) => {
    const child = spawn(NODE, [...args, ...common(join(dir, `daemon-${i}`))], {
      env: { ...env, ATHENZ_SIA_REFRESH_INTERVAL: '0.001' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    let partial = '';
    let refreshes = 0;
    const rss: number[] = [];
    const started = Date.now();
    const done = new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (d) => {
        log = (log + d).slice(-20_000); // the tail, for an error message
        const lines = (partial + d).split('\n');
        partial = lines.pop()!;
        // The method measured, and refreshes only: a refused refresh that registers afresh is not the workload measured.
        const wrong = lines.some((l) => l.includes('sports.api: attestation by ') && !l.includes(`attestation by ${method}`))
          ? `did not attest by ${method}` : lines.some((l) => l.includes('registering afresh')) ? 'had a refresh refused' : '';
        if (wrong) {
          child.kill('SIGTERM');
          reject(new Error(`siad daemon${label} ${wrong}:\n${log}`));
        }
        const refreshed = lines.filter((l) => l.includes('sports.api: refreshed the certificate of instance')).length;
        refreshes += refreshed;
        if (child.exitCode !== null || child.killed || refreshed === 0 || refreshes <= REFRESHES - SAMPLED) return;
        const stats = processStats(child.pid!);
        rss.push(stats.rssMb);
        if (refreshes < REFRESHES) return;
        child.kill('SIGTERM');
        resolve(`siad daemon${label}, attestation by ${method}, after ${REFRESHES} refreshes (${((Date.now() - started) / 1000).toFixed(0)} s): `
          + `RSS ${median(rss).toFixed(1)} MB (median over the last ${SAMPLED} refreshes, range ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)}), peak ${stats.peakRssMb.toFixed(1)} MB`);
      });
      child.on('exit', (code) => {
        if (refreshes < REFRESHES) reject(new Error(`siad exited (${code}):\n${log}`));
      });
    });
    return done;
  });
  for (const line of await Promise.all(daemons)) console.log(line);
  if (stsFront) console.log(`(siad's ${stsFront.requests()} STS requests went over HTTPS, through bench/support/tls-front.ts)`);
} finally {
  await stsFront?.close();
  await t.close();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
