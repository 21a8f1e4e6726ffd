/** What must never appear in a log line, and a scanner for it. */
import { ADMIN_PASSWORD } from './test-server.ts';

const SECRETS: [kind: string, pattern: RegExp][] = [
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----|PRIVATE KEY-----/],
  ['Athenz principal token', /\bv=U1;|;s=[A-Za-z0-9._-]{16,}/],
  ['JWT', /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/],
  ['password', new RegExp(`"password"\\s*:|password=|${ADMIN_PASSWORD}|-password\\b`, 'i')],
  ['cookie', /tessera_session=|tessera_csrf=|"(set-)?cookie"\s*:/i],
  ['Authorization header', /"authorization"\s*:|\b(Bearer|Basic) [A-Za-z0-9._~+/=-]{8,}/i],
  ['AWS secret', /"(secret|secretAccessKey|sessionToken|attestationData)"\s*:|aws_secret_access_key/i],
];

export interface Finding {
  line: number;
  kind: string;
  text: string;
}

export function findSecrets(log: string): Finding[] {
  const found: Finding[] = [];
  log.split('\n').forEach((text, i) => {
    for (const [kind, pattern] of SECRETS) {
      if (pattern.test(text)) found.push({ line: i + 1, kind, text: text.slice(0, 300) });
    }
  });
  return found;
}
