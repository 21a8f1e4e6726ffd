/**
 * Metrics as an operator gets them: a real Prometheus (Debian's `prometheus`,
 * started here with a config of its own, never the system service) scrapes
 * a running server (on PostgreSQL) over HTTPS and answers queries through its HTTP API; the
 * shipped alert rules load into it and every PromQL expression of the shipped
 * Grafana dashboard runs against it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { httpsJson } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { HealthState } from '@tessera/sia/health';
import { healthMetrics } from '@tessera/sia/health-server';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';
import { driveCertFlow, PROVIDER, setUpSports } from '@tessera/server/test/support/cert-flow';

const ROOT = new URL('..', import.meta.url).pathname;
const RULES = join(ROOT, 'docs/examples/tessera-alerts.yml');
const DASHBOARD = join(ROOT, 'docs/examples/grafana-dashboard.json');
const PROMETHEUS = '/usr/bin/prometheus';

let sim: AwsSim;
let t: TestServer;
let dir: string;
let prom: ChildProcess | undefined;
let promUrl: string;
let promOut = '';

interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<PromResult> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResult;
}

/** Polls until the query has a result (Prometheus scrapes every second). */
async function eventually(expr: string, timeoutMs = 60_000): Promise<PromResult['data']['result']> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await query(expr).catch(() => undefined);
    if (r?.status === 'success' && r.data.result.length > 0) return r.data.result;
    if (prom?.exitCode !== null) throw new Error(`prometheus exited (${prom?.exitCode}):\n${promOut.slice(-2000)}`);
    if (Date.now() > end) throw new Error(`no result for ${expr} within ${timeoutMs} ms: ${JSON.stringify(r)}\n${promOut.slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const portOf = (url: string) => new URL(url).port;

before(async () => {
  assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: install Debian's prometheus package (scripts/setup.sh does)`);
  dir = mkdtempSync(join(tmpdir(), 'tessera-prom-'));
  sim = await startAwsSim();
  // On PostgreSQL, so the pool's gauges are there too.
  t = await startTestServer('postgres', { awsStsEndpoint: sim.url });
  await setUpSports(t, sim);
  await driveCertFlow(t, sim);

  writeFileSync(join(dir, 'ca.pem'), t.ca);
  const target = (job: string, url: string) => [
    `  - job_name: ${job}`,
    '    scheme: https',
    `    tls_config: { ca_file: ${join(dir, 'ca.pem')}, server_name: localhost }`,
    `    static_configs: [{ targets: ['localhost:${portOf(url)}'] }]`,
  ];
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${RULES}]`,
    'scrape_configs:',
    ...target('tessera-zts', t.server.ztsUrl),
    ...target('tessera-zms', t.server.zmsUrl),
    '',
  ].join('\n'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout!.on('data', (d: Buffer) => (promOut += d.toString()));
  prom.stderr!.on('data', (d: Buffer) => (promOut += d.toString()));
});

after(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    await exited;
  }
  await t?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus scrapes Tessera', () => {
  test('/metrics on both ports, without credentials, in the text format', async () => {
    for (const url of [t.server.zmsUrl, t.server.ztsUrl]) {
      const res = await httpsJson({ url: new URL('/metrics', url).href, ca: t.ca });
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(res.text, /^tessera_process_cpu_seconds_total /m);
    }
  });

  test('both targets are up, scraped over HTTPS', async () => {
    await eventually('count(up{job=~"tessera-.*"} == 1) == 2');
    const up = (await query('up{job=~"tessera-.*"}')).data.result;
    assert.deepEqual(up.map((r) => `${r.metric.job}=${r.value[1]}`).sort(), ['tessera-zms=1', 'tessera-zts=1']);
  });

  test('certificates issued and refused, by provider, kind and reason', async () => {
    const issued = await eventually(`tessera_certificates_issued_total{job="tessera-zts"}`);
    const byKind = Object.fromEntries(issued.map((r) => [`${r.metric.provider}/${r.metric.kind}`, r.value[1]]));
    assert.deepEqual(byKind, { [`${PROVIDER}/register`]: '1', [`${PROVIDER}/refresh`]: '1', 'role/role': '1' });
    const refused = await eventually(`tessera_certificates_refused_total{job="tessera-zts"}`);
    const byReason = Object.fromEntries(refused.map((r) => [`${r.metric.provider}/${r.metric.reason}`, r.value[1]]));
    assert.deepEqual(byReason, { [`${PROVIDER}/bad_request`]: '1', [`${PROVIDER}/forbidden`]: '1' });
    // Each use of the CA key: the three certificates answered, none signed for the refusals.
    const signed = await eventually(`tessera_ca_signatures_total{job="tessera-zts",what="certificate"}`);
    assert.equal(signed[0].value[1], '3');
  });

  test('requests by route and status, STS calls, sign-ins, database and snapshot', async () => {
    const registers = await eventually(`tessera_http_request_duration_seconds_count{job="tessera-zts",route="/zts/v1/instance",method="POST"}`);
    assert.deepEqual(registers.map((r) => `${r.metric.status}=${r.value[1]}`).sort(), ['201=1', '400=1', '403=1']);
    const sts = await eventually('tessera_sts_request_duration_seconds_count{job="tessera-zts"}');
    assert.deepEqual(Object.fromEntries(sts.map((r) => [r.metric.outcome, r.value[1]])), { ok: '2', rejected: '1' });
    assert.equal((await eventually('tessera_sts_failures_total{job="tessera-zts"}'))[0].metric.reason, 'rejected');
    const signIns = await eventually('tessera_signins_total{job="tessera-zms"}');
    assert.equal(signIns.find((r) => r.metric.result === 'failure')?.value[1], '1');
    assert.equal((await eventually('tessera_db_up{job="tessera-zts"}'))[0].value[1], '1');
    assert.ok(Number((await eventually('tessera_db_write_duration_seconds_count{job="tessera-zts"}'))[0].value[1]) > 0);
    const pool = await eventually('tessera_db_pool_connections{job="tessera-zts"}');
    assert.deepEqual(pool.map((r) => r.metric.state).sort(), ['idle', 'total', 'waiting']);
    assert.ok(Number(pool.find((r) => r.metric.state === 'total')!.value[1]) >= 1);
    assert.ok(Number((await eventually('tessera_snapshot_domains{job="tessera-zts"}'))[0].value[1]) >= 7);
    assert.ok(Number((await eventually('tessera_snapshot_age_seconds{job="tessera-zts"}'))[0].value[1]) < 30);
  });

  test('the alert rules load and evaluate', async () => {
    const end = Date.now() + 60_000;
    for (;;) {
      const res = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
      const rules = res.data.groups.flatMap((g) => g.rules);
      if (rules.length > 0 && rules.every((r) => r.health === 'ok')) {
        assert.deepEqual(res.data.groups.map((g) => g.name), ['siad', 'tessera']);
        assert.ok(rules.some((r) => r.name === 'TesseraDatabaseUnavailable'));
        break;
      }
      assert.ok(Date.now() < end, `rules not healthy: ${JSON.stringify(rules.filter((r) => r.health !== 'ok'))}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // Nothing is wrong here, so nothing fires.
    const alerts = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } };
    assert.deepEqual(alerts.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname), []);
  });

  test("every expression of the Grafana dashboard is valid PromQL over metrics that exist", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => ({ panel: p.title, expr: x.expr })));
    assert.ok(exprs.length >= 15);
    for (const { panel, expr } of exprs) {
      // Grafana's variables, as Grafana fills them in for "All" and a short range.
      const r = await query(expr.replaceAll('$__rate_interval', '1m').replaceAll('$job', '.+'));
      assert.equal(r.status, 'success', `${panel}: ${expr}: ${r.error}`);
    }
    // Each metric the dashboard and the alert rules name is one the server or siad exports.
    const res = await httpsJson({ url: new URL('/metrics', t.server.ztsUrl).href, ca: t.ca });
    const state = new HealthState();
    state.refreshed('sports.api', new Date(Date.now() + 86_400_000), new Date());
    state.failed('sports.api', 'test', new Date());
    const exported = res.text + (await healthMetrics(state, () => new Date()).metrics());
    const names = new Set([...readFileSync(DASHBOARD, 'utf8').matchAll(/\b(?:tessera|siad)_[a-z0-9_]+/g), ...readFileSync(RULES, 'utf8').matchAll(/\b(?:tessera|siad)_[a-z0-9_]+/g)].map((m) => m[0]));
    const missing = [...names].filter((n) => !new RegExp(`^${n}[ {]`, 'm').test(exported));
    assert.deepEqual(missing, []);
  });
});
