/** Name shorthands of Athenz's zms-cli. */

/** A member without a domain is a user: `jane` → `user.jane`. */
export function memberName(name: string): string {
  return name === '*' || name.includes('.') || name.includes(':') ? name : `user.${name}`;
}

/** `<effect> <action> to <role> on <resource>` → an Assertion; short role and resource names get the domain. */
export function parseAssertion(domain: string, words: string[]): { effect: 'ALLOW' | 'DENY'; action: string; role: string; resource: string } {
  const [effect, action, to, role, on, resource, ...rest] = words;
  if (!(effect === 'grant' || effect === 'deny') || to !== 'to' || on !== 'on' || !action || !role || !resource || rest.length > 1) {
    throw new Error(`assertion must be: grant|deny <action> to <role> on <resource> (got: ${words.join(' ') || 'nothing'})`);
  }
  return {
    effect: effect === 'grant' ? 'ALLOW' : 'DENY',
    action,
    role: role.includes(':') ? role : `${domain}:role.${role}`,
    resource: resource.includes(':') ? resource : `${domain}:${resource}`,
  };
}

/** How zms-cli prints an assertion: `grant read to readers on data.*`. */
export function assertionText(domain: string, a: { effect?: string; action: string; role: string; resource: string }): string {
  const strip = (s: string, prefix: string) => (s.startsWith(prefix) ? s.slice(prefix.length) : s);
  return `${a.effect === 'DENY' ? 'deny' : 'grant'} ${a.action} to ${strip(a.role, `${domain}:role.`)} on ${strip(a.resource, `${domain}:`)}`;
}
