/** The identity providers the web UI offers: from the first AWS region by default, or from a --ui-providers file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverConfig, type ServeFlags } from '../src/server-config.ts';
import { startServer } from '../src/server.ts';

/** /ui-config.json, and the port ZTS really listens on (the UI shows it in the siad command). */
async function servedProviders(dir: string, flags: ServeFlags): Promise<{ config: unknown; ztsPort: number }> {
  const server = await startServer(serverConfig({ dataDir: join(dir, 'data'), zmsPort: '0', ztsPort: '0', logLevel: 'error', ...flags }, { TESSERA_ADMIN_PASSWORD: 'ui-test-password' }));
  try {
    return { config: await getJson(new URL('/ui-config.json', server.zmsUrl), server.tls.caCertPem), ztsPort: Number(new URL(server.ztsUrl).port) };
  } finally {
    await server.close();
  }
}

/** GET over HTTPS, trusting the server's own CA. */
function getJson(url: URL, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject).end();
  });
}

test('by default the providers are checked against the first configured region', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-'));
  try {
    const config = (await servedProviders(dir, { awsRegions: 'eu-west-1,us-east-1' })).config as { providers: { principal: string; template: string }[] };
    assert.deepEqual(config.providers.map((p) => [p.template, p.principal]), [
      ['aws_instance_launch_provider', 'athenz.aws.eu-west-1'],
      ['aws_ecs_instance_launch_provider', 'athenz.aws-ecs.eu-west-1'],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--ui-providers replaces the list; a broken file stops the start with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-'));
  try {
    const file = join(dir, 'providers.json');
    const list = [{ template: 'aws_instance_launch_provider', label: 'EKS in Frankfurt', principal: 'athenz.aws.eu-central-1' }];
    writeFileSync(file, JSON.stringify(list));
    const served = await servedProviders(dir, { uiProviders: file, awsDnsSuffix: 'aws.example.net' });
    assert.deepEqual(served.config, { providers: list, ztsPort: served.ztsPort, dnsSuffix: 'aws.example.net' });

    writeFileSync(file, JSON.stringify([{ template: 'aws_instance_launch_provider', label: 'no principal' }]));
    assert.throws(() => serverConfig({ uiProviders: file }, {}), /UI providers file .*providers\.json: entry 1 lacks principal/);
    writeFileSync(file, '{"providers": ');
    assert.throws(() => serverConfig({ uiProviders: file }, {}), /UI providers file .*providers\.json: .*JSON/);
    assert.throws(() => serverConfig({}, { TESSERA_UI_PROVIDERS: join(dir, 'missing.json') }), /UI providers file .*missing\.json: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
