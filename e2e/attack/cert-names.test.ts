/**
 * Attack checklist: names ZTS must never sign unless it verified them
 * (issue 11 item 2). Each test sends a CSR asking for a name the caller may
 * not have, on register, refresh and role certificates, and expects a 400
 * that names the field and the allowed forms. The last tests check that what
 * is signed is built by ZTS, not copied from the CSR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { waitFor } from '@tessera/server/test/support/wait-for';
import { attestation, PROVIDER, refused, startBench, SUFFIX, type Bench, type CsrSpec, type Identity } from './support.ts';

let b: Bench;
let dir: string;
let api: { id: Identity; instanceId: string; creds: Awaited<ReturnType<Bench['fargate']>>['creds'] };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-attack-names-'));
  b = await startBench(dir);
  api = await b.registered();
});
after(async () => {
  await b?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What an attacker holding sports.api's IAM role can send to POST /instance. */
async function registerWith(change: CsrSpec) {
  const { creds, taskId } = await b.fargate();
  const { csr } = await b.serviceCsr(taskId, change);
  return b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
}

/** The same names on a refresh, over mTLS with a good sports.api certificate. */
async function refreshWith(change: CsrSpec) {
  const { csr } = await b.serviceCsr(api.instanceId, change);
  return b.refresh({ instanceId: api.instanceId }, { csr, attestationData: attestation('sports.api', api.creds) }, api.id);
}

const good = (id: string) => [`spiffe://sports/sa/api`, `athenz://instanceid/${PROVIDER}/${id}`];

/** Each unverified name, for register and refresh: how to ask for it, and the refusal expected. */
const UNVERIFIED: { attack: string; change: (id: string) => CsrSpec; message: RegExp }[] = [
  {
    attack: 'URI athenz://principal/user.admin',
    change: (id) => ({ uris: [...good(id), 'athenz://principal/user.admin'] }),
    message: /CSR validation failed - URI athenz:\/\/principal\/user\.admin is not accepted in a service certificate: athenz:\/\/principal\/ belongs in role certificates only \(allowed are spiffe:\/\/sports\/sa\/api and athenz:\/\/instanceid\//,
  },
  {
    attack: 'URI athenz://hostname/db.prod.example.com',
    change: (id) => ({ uris: [...good(id), 'athenz://hostname/db.prod.example.com'] }),
    message: /URI athenz:\/\/hostname\/db\.prod\.example\.com is not accepted: ZTS does not verify host names, so it signs no athenz:\/\/hostname\/ URI/,
  },
  {
    attack: 'two athenz://instanceid/ URIs (its own and a victim’s)',
    change: (id) => ({ uris: [...good(id), `athenz://instanceid/${PROVIDER}/victim-task`] }),
    message: /more than one athenz:\/\/instanceid\/ URI: a certificate names exactly one instance/,
  },
  {
    attack: 'O=Athenz System Admins',
    change: () => ({ subject: { commonName: 'sports.api', organizationalUnit: PROVIDER, organization: 'Athenz System Admins' } }),
    message: /CSR subject O "Athenz System Admins" is not allowed: this ZTS allows no O \(an operator can allow values with --cert-allowed-o\); leave O out/,
  },
  {
    attack: 'OU=sys.auth',
    change: () => ({ subject: { commonName: 'sports.api', organizationalUnit: 'sys.auth' } }),
    message: /CSR subject OU "sys\.auth" is not allowed: use OU=athenz\.aws\.us-west-2 or leave OU out/,
  },
  {
    attack: 'C=US (any subject field but CN, OU and O)',
    change: () => ({ subject: { commonName: 'sports.api', country: 'US' } }),
    message: /CSR subject field C="US" is not allowed: ZTS signs only CN, OU and O/,
  },
  {
    attack: 'another service’s SPIFFE ID',
    change: (id) => ({ uris: ['spiffe://sports/sa/web', `athenz://instanceid/${PROVIDER}/${id}`] }),
    message: /Unable to validate Service SPIFFE URI spiffe:\/\/sports\/sa\/web \(expected spiffe:\/\/sports\/sa\/api\)/,
  },
  {
    attack: 'two SPIFFE IDs',
    change: (id) => ({ uris: [...good(id), 'spiffe://sports/sa/web'] }),
    message: /Invalid SPIFFE URI present in CSR: more than one spiffe:\/\/ URI/,
  },
  {
    attack: 'a URI of another scheme',
    change: (id) => ({ uris: [...good(id), 'https://evil.example.com/'] }),
    message: /unsupported URI in CSR: https:\/\/evil\.example\.com\/ \(allowed are/,
  },
  {
    attack: 'an IP address SAN',
    change: () => ({ ipAddresses: ['10.0.0.1'] }),
    message: /IP address and e-mail SANs are not accepted in service certificates/,
  },
  {
    attack: 'an e-mail SAN',
    change: () => ({ emails: ['admin@example.com'] }),
    message: /IP address and e-mail SANs are not accepted in service certificates/,
  },
  {
    attack: 'a DNS name outside the provider’s suffixes',
    change: () => ({ dnsNames: [`api.sports.${SUFFIX}`, 'www.example.com'] }),
    message: /www\.example\.com does not end with provider\/service configured suffix or hostname \(provider athenz\.aws\.us-west-2 may use: aws\.athenz\.cloud\)/,
  },
  {
    attack: 'another service’s CN',
    change: () => ({ subject: { commonName: 'sports.web' } }),
    message: /Unable to validate CSR common name: sports\.web, expected sports\.api/,
  },
];

describe('register: a CSR asking for a name ZTS did not verify is a 400 naming it', () => {
  for (const c of UNVERIFIED) {
    test(`register with ${c.attack} → 400`, async () => {
      const { creds, taskId } = await b.fargate();
      const { csr } = await b.serviceCsr(taskId, c.change(taskId));
      const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
      refused(r, 400, c.message);
    });
  }

  test('register with an instance id URI of another provider → 400', async () => {
    const r = await registerWith({ uris: ['spiffe://sports/sa/api', 'athenz://instanceid/athenz.aws.us-east-1/task-1'] });
    refused(r, 400, /URI athenz:\/\/instanceid\/athenz\.aws\.us-east-1\/task-1 does not match the request: expected athenz:\/\/instanceid\/athenz\.aws\.us-west-2\/task-1/);
  });

  test('register whose instance id DNS name and URI name different instances → 400', async () => {
    const r = await registerWith({
      dnsNames: [`api.sports.${SUFFIX}`, `i-victim.instanceid.athenz.${SUFFIX}`],
      uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/i-attacker`],
    });
    refused(r, 400, /the instance id DNS name says i-victim but the instance id URI says i-attacker: name one instance/);
  });

  test('register with no instance id anywhere → 400', async () => {
    const r = await registerWith({ uris: ['spiffe://sports/sa/api'] });
    refused(r, 400, /InstanceId cannot be empty: add the URI athenz:\/\/instanceid\/athenz\.aws\.us-west-2\/<instance-id>/);
  });

  test('register with an instance id that is not a plain token (path or URI tricks) → 400', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId, { uris: ['spiffe://sports/sa/api'] });
    const r = await b.register({
      provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds), x509CertInstanceId: '../other',
    });
    refused(r, 400, /instance id "\.\.\/other" is not valid: use letters, digits/);
  });

  test('register with a CSR whose signature does not verify (not proof of the key) → 400', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId);
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr: breakSignature(csr), attestationData: attestation('sports.api', creds) });
    refused(r, 400, /unable to parse PKCS10 CSR: its signature does not verify with its own key/);
  });

  test('register with garbage instead of a CSR, or none → 400', async () => {
    const { creds } = await b.fargate();
    const base = { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: attestation('sports.api', creds) };
    refused(await b.register({ ...base, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' }), 400, /Unable to parse the CSR \(.+\): send a PEM "CERTIFICATE REQUEST"/);
    refused(await b.register(base), 400, /csr is required: a PEM certificate signing request/);
  });
});

describe('register: subject and instance id forms only a hand-made CSR has', () => {
  test('register with two CNs (sports.api and sports.web) → 400', async () => {
    const { creds, taskId } = await b.fargate();
    const keyFile = join(dir, 'two-cn.key');
    writeFileSync(keyFile, generateKeyPair('ec').privateKeyPem);
    const csr = execFileSync('openssl', [
      'req', '-new', '-key', keyFile, '-subj', '/CN=sports.api/CN=sports.web',
      '-addext', `subjectAltName=DNS:api.sports.${SUFFIX},URI:athenz://instanceid/${PROVIDER}/${taskId}`,
    ], { encoding: 'utf8' });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    refused(r, 400, /CSR subject has more than one CN: a certificate subject names one of each/);
  });

  const opensslCsr = (keyArgs: string[], subj = '/CN=sports.api') => {
    const keyFile = join(dir, `k-${keyArgs.join('-')}.pem`);
    execFileSync('openssl', ['genpkey', ...keyArgs, '-out', keyFile]);
    return execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', subj], { encoding: 'utf8' });
  };
  const registerPem = async (csr: string) => {
    const { creds } = await b.fargate();
    return b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
  };

  test('register with a CSR for a 1024-bit RSA key → 400', async () => {
    refused(await registerPem(opensslCsr(['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'])), 400, /The CSR public key is not accepted: .*2048/);
  });

  test('register with a CSR for an Ed25519 key → 400', async () => {
    refused(await registerPem(opensslCsr(['-algorithm', 'ED25519'])), 400, /The CSR public key is not (accepted|usable)/);
  });

  test('register with a CSR for an EC key on secp256k1 → 400 naming the curves allowed', async () => {
    refused(await registerPem(opensslCsr(['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1'])), 400,
      /The CSR public key is not accepted: EC curve secp256k1 is not supported: use P-256 or P-384/);
  });

  test('register with an instance id URI that names no id → 400', async () => {
    const r = await registerWith({ uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}`] });
    refused(r, 400, /InstanceId cannot be empty/);
  });

  test('the SPIFFE trust-domain form for its own service is signed as asked', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId, { uris: ['spiffe://athenz.io/ns/prod/sa/sports.api', `athenz://instanceid/${PROVIDER}/${taskId}`] });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(parseCertificate(r.body.x509Certificate).uris, ['spiffe://athenz.io/ns/prod/sa/sports.api', `athenz://instanceid/${PROVIDER}/${taskId}`]);
  });
});

describe('refresh: the same names are refused over mTLS with a good certificate', () => {
  for (const c of UNVERIFIED) {
    test(`refresh with ${c.attack} → 400`, async () => {
      refused(await refreshWith(c.change(api.instanceId)), 400, c.message);
    });
  }
});

describe('role certificates: only the caller, the role and the caller’s own instance', () => {
  const roleCsr = (change: CsrSpec = {}) =>
    b.csr({
      subject: { commonName: 'sports:role.readers', organizationalUnit: PROVIDER },
      uris: ['spiffe://sports/ra/readers', `athenz://instanceid/${PROVIDER}/${api.instanceId}`, 'athenz://principal/sports.api'],
      ...change,
    });
  const ask = async (change: CsrSpec = {}) => b.roleCert({ csr: (await roleCsr(change)).csr, expiryTime: 0 }, api.id);
  const uris = (...extra: string[]) => ['spiffe://sports/ra/readers', 'athenz://principal/sports.api', ...extra];

  test('role cert for athenz://principal/user.admin (someone else) → 400', async () => {
    refused(await ask({ uris: ['spiffe://sports/ra/readers', 'athenz://principal/user.admin'] }), 400,
      /Unable to validate cert request: the CSR must carry exactly one URI athenz:\/\/principal\/sports\.api: a role certificate names its caller and nobody else/);
  });
  test('role cert with two principal URIs (the caller and user.admin) → 400', async () => {
    refused(await ask({ uris: uris('athenz://principal/user.admin') }), 400, /exactly one URI athenz:\/\/principal\/sports\.api/);
  });
  test('role cert with no principal URI → 400', async () => {
    refused(await ask({ uris: ['spiffe://sports/ra/readers'] }), 400, /exactly one URI athenz:\/\/principal\/sports\.api/);
  });
  test('role cert with athenz://hostname/ → 400', async () => {
    refused(await ask({ uris: uris('athenz://hostname/db.prod.example.com') }), 400, /URI athenz:\/\/hostname\/db\.prod\.example\.com is not accepted: ZTS does not verify host names/);
  });
  test('role cert with another instance’s id → 400', async () => {
    refused(await ask({ uris: uris(`athenz://instanceid/${PROVIDER}/victim-task`) }), 400, /the instance id in the CSR is not the one in the service certificate/);
  });
  test('role cert with two instance id URIs → 400', async () => {
    const own = `athenz://instanceid/${PROVIDER}/${api.instanceId}`;
    refused(await ask({ uris: uris(own, `athenz://instanceid/${PROVIDER}/victim-task`) }), 400, /more than one athenz:\/\/instanceid\/ URI/);
  });
  test('role cert with another role’s SPIFFE ID → 400', async () => {
    refused(await ask({ uris: ['spiffe://sports/ra/admin', 'athenz://principal/sports.api'] }), 400, /SPIFFE URI spiffe:\/\/sports\/ra\/admin does not name the role \(expected spiffe:\/\/sports\/ra\/readers\)/);
    refused(await ask({ uris: ['spiffe://athenz.io/ns/weather/ra/readers', 'athenz://principal/sports.api'] }), 400, /does not name the role/);
  });
  test('role cert with two SPIFFE IDs → 400', async () => {
    refused(await ask({ uris: uris('spiffe://athenz.io/ns/sports/ra/readers') }), 400, /more than one spiffe:\/\/ URI/);
  });
  test('role cert with a URI of another scheme → 400', async () => {
    refused(await ask({ uris: uris('https://evil.example.com/') }), 400, /unsupported URI https:\/\/evil\.example\.com\//);
  });
  test('role cert with O=Athenz System Admins → 400', async () => {
    refused(await ask({ subject: { commonName: 'sports:role.readers', organization: 'Athenz System Admins' } }), 400, /CSR subject O "Athenz System Admins" is not allowed/);
  });
  test('role cert with OU=sys.auth → 400', async () => {
    refused(await ask({ subject: { commonName: 'sports:role.readers', organizationalUnit: 'sys.auth' } }), 400,
      /CSR subject OU "sys\.auth" is not allowed: use OU=athenz\.aws\.us-west-2 or leave OU out/);
  });
  test('role cert with C=US → 400', async () => {
    refused(await ask({ subject: { commonName: 'sports:role.readers', country: 'US' } }), 400, /CSR subject field C="US" is not allowed/);
  });
  test('role cert with a DNS name the service certificate does not have → 400', async () => {
    refused(await ask({ dnsNames: ['db.prod.example.com'] }), 400, /DNS name db\.prod\.example\.com is not in the service certificate/);
  });
  test('role cert with an IP address → 400', async () => {
    refused(await ask({ ipAddresses: ['10.0.0.1'] }), 400, /IP addresses are not accepted in role certificates/);
  });
  test('role cert with an e-mail → 400', async () => {
    refused(await ask({ emails: ['sports.api@example.com'] }), 400, /e-mail SANs are not accepted in role certificates: the caller is named by athenz:\/\/principal\/sports\.api/);
  });
});

describe('what is signed is what ZTS decided', () => {
  test('service certificate: CN, OU = provider, one SPIFFE ID and one instance id, DNS as verified — even when the CSR asks for less', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.csr({ subject: { commonName: 'SPORTS.API' }, dnsNames: [`API.sports.${SUFFIX}`, `api.sports.${SUFFIX}`], uris: [`athenz://instanceid/${PROVIDER}/${taskId}`] });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    assert.equal(r.status, 201, r.text);
    const cert = parseCertificate(r.body.x509Certificate);
    assert.equal(cert.commonName, 'sports.api');
    assert.equal(cert.organizationalUnit, PROVIDER);
    assert.equal(cert.organization, undefined);
    assert.deepEqual(cert.uris, ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${taskId}`]);
    assert.deepEqual(cert.dnsNames, [`api.sports.${SUFFIX}`]);
    assert.deepEqual([cert.ipAddresses, cert.emails], [[], []]);
  });

  test('role certificate: CN the role, OU from the service certificate, exactly the role SPIFFE ID, the caller and its instance', async () => {
    const { csr } = await b.csr({
      subject: { commonName: 'sports:role.readers' },
      uris: ['athenz://principal/sports.api', `athenz://instanceid/${PROVIDER}/${api.instanceId}`],
    });
    const r = await b.roleCert({ csr, expiryTime: 0 }, api.id);
    assert.equal(r.status, 200, r.text);
    const cert = parseCertificate(r.body.x509Certificate);
    assert.equal(cert.commonName, 'sports:role.readers');
    assert.equal(cert.organizationalUnit, PROVIDER);
    assert.deepEqual(cert.uris, ['spiffe://sports/ra/readers', 'athenz://principal/sports.api', `athenz://instanceid/${PROVIDER}/${api.instanceId}`]);
  });
});

describe('--cert-allowed-o: an operator-configured O is signed, any other O is refused', () => {
  let o: Bench;
  let odir: string;
  before(async () => {
    odir = mkdtempSync(join(tmpdir(), 'tessera-attack-o-'));
    o = await startBench(odir, { flags: { certAllowedO: 'Example, Inc.|Example Labs' } });
  });
  after(async () => {
    await o?.close();
    rmSync(odir, { recursive: true, force: true });
  });

  test('O=Example, Inc. (allowed) → 201 with that O; O=Athenz System Admins → 400 listing the allowed values', async () => {
    const { creds, taskId } = await o.fargate();
    const send = async (organization: string) => {
      const { csr } = await o.serviceCsr(taskId, { subject: { commonName: 'sports.api', organizationalUnit: PROVIDER, organization } });
      return o.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    };
    const ok = await send('Example, Inc.');
    assert.equal(ok.status, 201, ok.text);
    assert.equal(parseCertificate(ok.body.x509Certificate).organization, 'Example, Inc.');
    refused(await send('Athenz System Admins'), 400, /CSR subject O "Athenz System Admins" is not allowed: allowed values are Example, Inc\., Example Labs/);
  });
});

/** The CSR with one bit of its signature flipped: still parses, no longer proves possession of the key. */
function breakSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] ^= 0x01;
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

describe("names under the domain's certDnsDomain", () => {
  // sports may have names under sports.corp.example; weather's are under weather.corp.example.
  const OWN = 'sports.corp.example';
  const setCertDnsDomain = async (domain: string, certDnsDomain: string) => {
    const r = await b.t.admin.call('PUT', `/domain/${domain}/meta/system/certdnsdomain`, { certDnsDomain });
    assert.equal(r.status, 204, r.text);
  };
  before(async () => {
    const r = await b.t.admin.call('POST', '/domain', { name: 'weather', adminUsers: ['user.admin'] });
    assert.equal(r.status, 200, r.text);
    await setCertDnsDomain('weather', 'weather.corp.example');
    await setCertDnsDomain('sports', OWN);
  });
  // The other tests of this file expect sports without one.
  after(() => setCertDnsDomain('sports', ''));

  test('its own: signed on register and on refresh, next to the provider name', async () => {
    const names = [`api.sports.${SUFFIX}`, `api.${OWN}`, `web-1.api.${OWN}`];
    // ZTS follows ZMS's change through its snapshot of the domain: wait for it (a register refused before then changes nothing).
    const r = await waitFor(`ZTS to sign names under ${OWN}`, async () => {
      const res = await registerWith({ dnsNames: names });
      return res.status === 201 ? res : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    assert.deepEqual([...parseCertificate(r.body.x509Certificate).dnsNames].sort(), [...names].sort());
    const again = await refreshWith({ dnsNames: [`api.sports.${SUFFIX}`, `api.${OWN}`] });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual([...parseCertificate(again.body.x509Certificate).dnsNames].sort(), [`api.sports.${SUFFIX}`, `api.${OWN}`].sort());
  });

  const NOT_OURS: { what: string; name: string }[] = [
    { what: "another domain's certDnsDomain", name: 'api.weather.corp.example' },
    { what: 'the certDnsDomain itself, with no name under it', name: OWN },
    { what: 'a look-alike that only ends with the same letters', name: `api.evil${OWN}` },
    { what: 'a look-alike with a dash for the dot', name: `api-${OWN}` },
    { what: 'the certDnsDomain followed by another domain', name: `api.${OWN}.evil.example` },
    { what: 'the parent of the certDnsDomain', name: 'api.corp.example' },
  ];
  for (const c of NOT_OURS) {
    test(`${c.what} (${c.name}) → 400 on register and on refresh, nothing issued`, async () => {
      const message = new RegExp(`CSR validation failed - ${c.name.replace(/\./g, '\\.')} does not end with provider/service configured suffix or hostname`);
      const before = (await b.t.admin.call<{ instances: unknown[] }>('GET', '/domain/sports/service/api/instances')).body.instances.length;
      refused(await registerWith({ dnsNames: [`api.sports.${SUFFIX}`, `api.${OWN}`, c.name] }), 400, message);
      refused(await refreshWith({ dnsNames: [`api.sports.${SUFFIX}`, c.name] }), 400, message);
      assert.equal((await b.t.admin.call<{ instances: unknown[] }>('GET', '/domain/sports/service/api/instances')).body.instances.length, before, 'no instance recorded');
    });
  }
});
