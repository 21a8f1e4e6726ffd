/**
 * Athenz's access token scope (AccessTokenScope): one domain per request,
 * space-separated items
 *   `<domain>:domain`                 every role of the domain the caller is in
 *   `<domain>:role.<role>`            that role (several may be given)
 *   `openid <domain>:service.<svc>`   also an ID token for that audience
 * Unlike Athenz, which skips items it does not recognise, an unknown item is
 * refused: it is a typo more often than not, and the answer says what to write.
 */
import { isDomainName, isEntityName, isSimpleName } from '@tessera/core/names';
import { invalidScope } from './oauth-error.ts';

export interface TokenScope {
  domain: string;
  /** Requested short role names; undefined = every role the caller is in. */
  roles?: string[];
  /** `<domain>:domain` was asked: the response lists the roles granted. */
  allRoles: boolean;
  openid: boolean;
  /** The ID token's audience service (short name), with `openid`. */
  service?: string;
}

const FORMS = 'use <domain>:domain, <domain>:role.<role> (one or more) or openid <domain>:service.<service>';

export function parseTokenScope(raw: string | undefined): TokenScope {
  if (!raw || raw.trim() === '') throw invalidScope(`Invalid request: no scope provided; ${FORMS}`);
  const domains = new Set<string>();
  const roles = new Set<string>();
  let allRoles = false;
  let openid = false;
  let service: string | undefined;
  const addDomain = (d: string, item: string) => {
    if (d === '' || !isDomainName(d)) throw invalidScope(`Invalid scope item "${item}": "${d}" is not a valid domain name`);
    domains.add(d);
    if (domains.size > 1) throw invalidScope(`Multiple domains in scope (${[...domains].join(', ')}): request one domain per token`);
  };
  for (const item of raw.toLowerCase().split(' ').filter(Boolean)) {
    if (item === 'openid') {
      openid = true;
      continue;
    }
    let i = item.indexOf(':service.');
    if (i >= 0) {
      const s = item.slice(i + ':service.'.length);
      addDomain(item.slice(0, i), item);
      if (!isSimpleName(s)) throw invalidScope(`Invalid scope item "${item}": "${s}" is not a valid service name`);
      if (service && service !== s) throw invalidScope(`Multiple services in scope (${service}, ${s}): an ID token has one audience`);
      service = s;
      continue;
    }
    if (item.endsWith(':domain')) {
      addDomain(item.slice(0, -':domain'.length), item);
      allRoles = true;
      continue;
    }
    i = item.indexOf(':role.');
    if (i >= 0) {
      const r = item.slice(i + ':role.'.length);
      addDomain(item.slice(0, i), item);
      if (!isEntityName(r)) throw invalidScope(`Invalid scope item "${item}": "${r}" is not a valid role name`);
      roles.add(r);
      continue;
    }
    throw invalidScope(`Invalid scope item "${item}": ${FORMS}`);
  }
  const [domain] = domains;
  if (!domain) throw invalidScope(`No domains in scope: ${FORMS}`);
  if (openid && !service) throw invalidScope(`No audience service name for openid scope: add ${domain}:service.<service>`);
  return {
    domain,
    // `<domain>:domain` wins over named roles, as in Athenz.
    ...(!allRoles && roles.size > 0 ? { roles: [...roles] } : {}),
    allRoles,
    openid,
    ...(service ? { service } : {}),
  };
}
