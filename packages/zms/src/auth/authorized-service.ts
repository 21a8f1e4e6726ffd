/**
 * Athenz's authorized service tokens: a user token whose `b=` names services
 * may only be used through one of them, with that service's signature
 * appended (`;bk=<key id>[;bn=<service>];bs=<signature>`). The service must be
 * on this server's allow-list (Athenz's `authorized_services`) and the
 * signature must check against the public key the service registered in ZMS.
 * The caller is then the user. (PrincipalAuthority.validateAuthorizeService in
 * Athenz's auth_core.)
 */
import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import { ybase64Decode } from '@tessera/core/ybase64';
import type { CheckedToken } from './user-tokens.ts';

/** A registered service public key, or undefined when the service or key id is unknown. */
export type ServiceKeyLookup = (service: string, keyId: string) => KeyObject | undefined;

/** Service public keys from the domain snapshots (each key parsed once per stored text). */
export function serviceKeysFromSnapshots(snapshots: Pick<DomainSnapshots, 'get'>): ServiceKeyLookup {
  const parsed = new Map<string, KeyObject>();
  return (service, keyId) => {
    const dot = service.lastIndexOf('.');
    if (dot <= 0 || dot === service.length - 1) return undefined;
    const domain = snapshots.get(service.slice(0, dot));
    const stored = domain?.services.find((s) => s.name === service)?.publicKeys?.find((k) => k.id === keyId)?.key;
    if (!stored) return undefined;
    let key = parsed.get(stored);
    if (!key) {
      try {
        key = createPublicKey(ybase64Decode(stored));
      } catch {
        return undefined;
      }
      if (parsed.size >= 256) parsed.clear();
      parsed.set(stored, key);
    }
    return key;
  };
}

/**
 * For a token with `b=` or a service signature: the authorized service it is
 * used through, or undefined when the pair does not check out (no signature,
 * a service the token does not name, one off the allow-list, a wrong key or
 * signature). Tokens without either are not this function's business: null.
 */
export function authorizedServiceOf(token: CheckedToken, allowed: readonly string[], keyOf: ServiceKeyLookup): string | null | undefined {
  const listed = token.authorizedServices;
  const sig = token.serviceSignature;
  if (!listed && !sig) return null;
  // `b=` without a service signature, or a signature with no `b=`: Athenz refuses both.
  if (!listed || !sig) return undefined;
  // With several services the signer names itself (`bn=`); with one, it is that one.
  const service = sig.name ?? (listed.length === 1 ? listed[0] : undefined);
  if (!service || !listed.includes(service) || !allowed.includes(service)) return undefined;
  const key = keyOf(service, sig.keyId);
  if (!key) return undefined;
  try {
    return createVerify('sha256').update(sig.signed).verify(key, sig.signature) ? service : undefined;
  } catch {
    return undefined;
  }
}
