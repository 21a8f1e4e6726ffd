/**
 * The name policy for every certificate ZTS signs: a CSR only asks; the
 * subject and SANs written into the certificate are built here from what ZTS
 * verified (domain, service, provider, instance id, caller), and any name in
 * the CSR that ZTS cannot vouch for is a 400 that says which field and what is
 * allowed. docs/security.md has the table.
 */
import type { ApiError } from '@tessera/core/errors';
import type { ParsedCsr } from '@tessera/core/x509/csr';
import type { Subject } from '@tessera/core/x509/names';
import { claim, refusal, type Explained } from '@tessera/core/explained';

export const INSTANCE_ID_URI = 'athenz://instanceid/';
const PRINCIPAL_URI = 'athenz://principal/';
const HOSTNAME_URI = 'athenz://hostname/';

type Fail = (detail: string | Explained) => ApiError;
const subjectRefused = refusal('csr_subject_invalid');
const uriRefused = refusal('csr_uri_invalid');

/**
 * The certificate subject: CN as given (the caller checked it against the
 * principal), OU only `ou` (the provider for service certificates), O only an
 * operator-allowed value (`--cert-allowed-o`), and no other attribute.
 */
export function certSubject(csr: ParsedCsr, a: { commonName: string; ou?: string; allowedO: string[]; fail: Fail }): Subject {
  const seen = new Map<string, string>();
  for (const { type, value } of csr.subjectFields) {
    if (seen.has(type)) throw a.fail(`CSR subject has more than one ${type}: a certificate subject names one of each`);
    seen.set(type, value);
    if (type === 'CN') continue;
    if (type === 'OU') {
      if (!a.ou || value.toLowerCase() !== a.ou.toLowerCase()) {
        throw a.fail(subjectRefused`CSR subject OU ${claim('OU', value, { quoted: true })} is not allowed: ${a.ou ? `use OU=${a.ou} or leave OU out` : 'leave OU out'}`);
      }
    } else if (type === 'O') {
      if (!a.allowedO.includes(value)) {
        const allowed = a.allowedO.length ? `allowed values are ${a.allowedO.join(', ')}` : 'this ZTS allows no O (an operator can allow values with --cert-allowed-o); leave O out';
        throw a.fail(subjectRefused`CSR subject O ${claim('O', value, { quoted: true })} is not allowed: ${allowed}`);
      }
    } else {
      throw a.fail(subjectRefused`CSR subject field ${claim('subjectField', type)}=${claim(type, value, { quoted: true })} is not allowed: ZTS signs only CN, OU and O`);
    }
  }
  const o = seen.get('O');
  return { commonName: a.commonName, organizationalUnit: a.ou, organization: o };
}

const lower = (uris: string[], prefix: string) => uris.filter((u) => u.toLowerCase().startsWith(prefix));

/** The instance id of an `athenz://instanceid/<provider>/<id>` URI (or of a `<id>.instanceid.athenz.<suffix>` DNS name). */
export function instanceIdOf(dnsNames: string[], uris: string[]): string | undefined {
  const uri = lower(uris, INSTANCE_ID_URI)[0];
  if (uri) {
    const rest = uri.slice(INSTANCE_ID_URI.length);
    const slash = rest.indexOf('/');
    return slash >= 0 ? rest.slice(slash + 1) : undefined;
  }
  const dns = dnsNames.find((n) => n.includes('.instanceid.athenz.'));
  return dns?.split('.instanceid.athenz.')[0];
}

/**
 * URIs of a service certificate: its SPIFFE ID (`spiffe://<domain>/sa/<service>`,
 * or the trust-domain form `spiffe://<td>/ns/<ns>/sa/<domain>.<service>` when the
 * CSR asks for it) and exactly one `athenz://instanceid/<provider>/<id>` for the
 * instance ZTS checked. Principal and hostname URIs are refused: nothing verifies them.
 */
export function serviceCertUris(uris: string[], a: { domain: string; service: string; provider: string; instanceId: string; fail: Fail }): string[] {
  const full = `${a.domain}.${a.service}`;
  const basic = `spiffe://${a.domain}/sa/${a.service}`;
  const instanceUri = `${INSTANCE_ID_URI}${a.provider}/${a.instanceId}`;
  // The provider and instance id come from the request: claims until the provider vouches for them.
  const shownInstanceUri = uriRefused`${INSTANCE_ID_URI}${claim('provider', a.provider)}/${claim('instanceId', a.instanceId)}`;
  const allowed = uriRefused`allowed are ${basic} and ${shownInstanceUri}`;
  for (const uri of uris) {
    const u = uri.toLowerCase();
    const shown = claim('uri', uri);
    if (u.startsWith(PRINCIPAL_URI)) throw a.fail(uriRefused`URI ${shown} is not accepted in a service certificate: athenz://principal/ belongs in role certificates only (${allowed})`);
    if (u.startsWith(HOSTNAME_URI)) throw a.fail(uriRefused`URI ${shown} is not accepted: ZTS does not verify host names, so it signs no athenz://hostname/ URI (${allowed})`);
    if (!u.startsWith('spiffe://') && !u.startsWith(INSTANCE_ID_URI)) throw a.fail(uriRefused`unsupported URI in CSR: ${shown} (${allowed})`);
  }
  const spiffe = lower(uris, 'spiffe://');
  if (spiffe.length > 1) throw a.fail('Invalid SPIFFE URI present in CSR: more than one spiffe:// URI');
  let spiffeId = basic;
  if (spiffe.length === 1) {
    const u = spiffe[0].toLowerCase();
    const trustDomainForm = /^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/([^/]+)$/.exec(u)?.[1];
    if (u !== basic && trustDomainForm !== full) throw a.fail(uriRefused`Unable to validate Service SPIFFE URI ${claim('uri', spiffe[0])} (expected ${basic})`);
    spiffeId = u;
  }
  const ids = lower(uris, INSTANCE_ID_URI);
  if (ids.length > 1) throw a.fail(uriRefused`more than one athenz://instanceid/ URI: a certificate names exactly one instance (${shownInstanceUri})`);
  if (ids.length === 1 && ids[0].toLowerCase() !== instanceUri.toLowerCase()) {
    throw a.fail(uriRefused`URI ${claim('uri', ids[0])} does not match the request: expected ${shownInstanceUri}`);
  }
  return [spiffeId, instanceUri];
}

/**
 * URIs of a role certificate: exactly one `athenz://principal/<caller>`, the
 * role's SPIFFE ID, and the caller's own instance id URI if the CSR asks for it.
 */
export function roleCertUris(
  uris: string[],
  a: { domain: string; role: string; principal: string; callerInstanceUri: string | undefined; fail: Fail },
): string[] {
  const basic = `spiffe://${a.domain}/ra/${a.role}`;
  const principalUri = `${PRINCIPAL_URI}${a.principal}`;
  const allowed = `allowed are ${principalUri}, ${basic} and the instance id URI of the caller's certificate`;
  for (const uri of uris) {
    const u = uri.toLowerCase();
    if (u.startsWith(HOSTNAME_URI)) throw a.fail(`URI ${uri} is not accepted: ZTS does not verify host names (${allowed})`);
    if (!u.startsWith('spiffe://') && !u.startsWith(PRINCIPAL_URI) && !u.startsWith(INSTANCE_ID_URI)) throw a.fail(`unsupported URI ${uri} (${allowed})`);
  }
  const principals = lower(uris, PRINCIPAL_URI);
  if (principals.length !== 1 || principals[0].toLowerCase() !== principalUri) {
    throw a.fail(`the CSR must carry exactly one URI ${principalUri}: a role certificate names its caller and nobody else`);
  }
  const spiffe = lower(uris, 'spiffe://');
  if (spiffe.length > 1) throw a.fail(`more than one spiffe:// URI (${allowed})`);
  let spiffeId = basic;
  if (spiffe.length === 1) {
    const u = spiffe[0].toLowerCase();
    const nsForm = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/ra\/([^/]+)$/.exec(u);
    if (u !== basic && !(nsForm?.[1] === a.domain && nsForm[2] === a.role)) throw a.fail(`SPIFFE URI ${spiffe[0]} does not name the role (expected ${basic})`);
    spiffeId = u;
  }
  const ids = lower(uris, INSTANCE_ID_URI);
  if (ids.length > 1) throw a.fail(`more than one athenz://instanceid/ URI (${allowed})`);
  if (ids.length === 1 && ids[0].toLowerCase() !== a.callerInstanceUri?.toLowerCase()) {
    throw a.fail('the instance id in the CSR is not the one in the service certificate');
  }
  return [spiffeId, principalUri, ...(ids.length === 1 ? [a.callerInstanceUri!] : [])];
}
