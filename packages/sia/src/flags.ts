/**
 * Command-line flags the way Go's `flag` package reads them, because Athenz
 * SIA is a Go program and its users write `-cmd post -ztsport 4443`:
 * one or two dashes, `-name value` or `-name=value`, booleans bare or
 * `-name=false` (never `-name false`), parsing stops at `--`.
 */

export type FlagKind = 'string' | 'int' | 'bool';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  default: string | number | boolean;
  usage: string;
}

export type FlagValues = Record<string, string | number | boolean>;

/** A bad command line; `help` when the user asked for the usage text. */
export class FlagError extends Error {
  readonly help: boolean;
  constructor(message: string, help = false) {
    super(message);
    this.help = help;
  }
}

function parseBool(value: string, name: string): boolean {
  // The spellings Go's strconv.ParseBool accepts.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new FlagError(`invalid boolean value "${value}" for -${name}: use -${name} or -${name}=false`);
}

function parseInt64(value: string, name: string): number {
  // Go accepts decimal, 0x hex, 0o/0 octal and 0b binary for int flags.
  const m = /^([+-]?)(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|\d+)$/i.exec(value);
  if (!m) throw new FlagError(`invalid value "${value}" for flag -${name}: parse error`);
  const digits = m[2].toLowerCase();
  const n = digits.startsWith('0x') ? parseInt(digits.slice(2), 16)
    : digits.startsWith('0b') ? parseInt(digits.slice(2), 2)
    : digits.startsWith('0o') ? parseInt(digits.slice(2), 8)
    : digits.length > 1 && digits.startsWith('0') ? parseInt(digits.slice(1), 8)
    : Number(digits);
  if (!Number.isSafeInteger(n)) throw new FlagError(`invalid value "${value}" for flag -${name}: value out of range`);
  return m[1] === '-' ? -n : n;
}

/** Parses `args` against `specs`; positional arguments are refused (siad takes none). */
export function parseGoFlags(specs: FlagSpec[], args: string[]): FlagValues {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: FlagValues = Object.fromEntries(specs.map((s) => [s.name, s.default]));
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      if (i + 1 < args.length) throw new FlagError(`unexpected argument ${args[i + 1]}: siad takes only flags`);
      break;
    }
    if (arg.length < 2 || !arg.startsWith('-') || arg.startsWith('---')) {
      throw new FlagError(`unexpected argument ${arg}: siad takes only flags (a boolean flag is written -name or -name=false)`);
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (name === '' || name.startsWith('=')) throw new FlagError(`bad flag syntax: ${arg}`);
    const spec = byName.get(name);
    if (!spec) {
      if (name === 'h' || name === 'help') throw new FlagError('usage requested', true);
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    if (spec.kind === 'bool') {
      values[name] = inline === undefined ? true : parseBool(inline, name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    values[name] = spec.kind === 'int' ? parseInt64(value, name) : value;
  }
  return values;
}

/** The usage text, in the layout Go's flag.PrintDefaults uses. */
export function usage(program: string, specs: FlagSpec[]): string {
  const lines = [`Usage of ${program}:`];
  for (const s of [...specs].sort((a, b) => a.name.localeCompare(b.name))) {
    const type = s.kind === 'bool' ? '' : s.kind === 'int' ? ' int' : ' string';
    lines.push(`  -${s.name}${type}`);
    const def = s.kind === 'bool' ? (s.default ? ' (default true)' : '') : s.default === '' ? '' : ` (default ${s.kind === 'string' ? JSON.stringify(s.default) : s.default})`;
    lines.push(`    \t${s.usage}${def}`);
  }
  return `${lines.join('\n')}\n`;
}

/** siad's flags: Athenz's EKS/Fargate/EC2 set, plus -siadir and -platform. */
export interface SiaFlags {
  cmd: string;
  meta: string;
  zts: string;
  ztsport: number;
  ztsservername: string;
  ztscacert: string;
  dnsdomains: string;
  providerprefix: string;
  config: string;
  regionalsts: boolean;
  uds: string;
  socket: string;
  version: boolean;
  profileconfig: string;
  profiletagkey: string;
  nosyslog: boolean;
  siadir: string;
  platform: string;
}

export const SIA_FLAGS: FlagSpec[] = [
  { name: 'cmd', kind: 'string', default: '', usage: 'post (register), rotate (refresh), rolecert, init, diagnose (check each link, issue nothing); comma-separated to chain; empty runs the daemon' },
  { name: 'meta', kind: 'string', default: '', usage: 'metadata endpoint (default: the SDK\'s IMDS endpoint on EC2/EKS, http://169.254.170.2 on Fargate)' },
  { name: 'zts', kind: 'string', default: '', usage: 'ZTS host name (required)' },
  { name: 'ztsport', kind: 'int', default: 4443, usage: 'ZTS port number' },
  { name: 'ztsservername', kind: 'string', default: '', usage: 'TLS server name to expect in ZTS\'s certificate' },
  { name: 'ztscacert', kind: 'string', default: '', usage: 'CA certificates file that signed ZTS\'s certificate (default: system CAs)' },
  { name: 'dnsdomains', kind: 'string', default: '', usage: 'comma-separated DNS suffixes for the certificate\'s SAN names (required)' },
  { name: 'providerprefix', kind: 'string', default: '', usage: 'provider prefix, e.g. athenz.aws; the provider is <prefix>.<region> (required)' },
  { name: 'config', kind: 'string', default: '/etc/sia/sia_config', usage: 'sia_config file' },
  { name: 'regionalsts', kind: 'bool', default: false, usage: 'use the regional STS endpoint' },
  { name: 'uds', kind: 'string', default: '', usage: 'the socket path, as Athenz names it (same as -socket)' },
  { name: 'socket', kind: 'string', default: '', usage: 'Unix socket for the SPIFFE Workload API (also SPIFFE_ENDPOINT_SOCKET, sds_uds_path); daemon only' },
  { name: 'version', kind: 'bool', default: false, usage: 'print the version and exit' },
  { name: 'profileconfig', kind: 'string', default: '/etc/sia/profile_config', usage: 'access profile config (accepted for compatibility, not used)' },
  { name: 'profiletagkey', kind: 'string', default: 'profile:Tag', usage: 'EC2 tag of the access profile (accepted for compatibility, not used)' },
  { name: 'nosyslog', kind: 'bool', default: false, usage: 'accepted for compatibility; siad always logs to stderr' },
  { name: 'siadir', kind: 'string', default: '/var/lib/sia', usage: 'directory for keys/, certs/, backup/ and the .done files' },
  { name: 'platform', kind: 'string', default: '', usage: 'eks, fargate or ec2 (default: detected from the environment)' },
];

/** The -cmd values that run once (anything else, or nothing, is the daemon or diagnose). */
export const ONE_SHOT = ['post', 'register', 'rotate', 'refresh', 'rolecert', 'init', 'token'] as const;

export function parseSiaFlags(args: string[]): SiaFlags {
  return parseGoFlags(SIA_FLAGS, args) as unknown as SiaFlags;
}
