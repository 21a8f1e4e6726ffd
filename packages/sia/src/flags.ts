/** Athenz SIA's Go-style flags: `-name value` or `-name=value`, booleans bare. */
export interface SiaFlags {
  cmd: string;
  zts: string;
  ztsport: number;
  ztscacert: string;
  dnsdomains: string;
  providerprefix: string;
  config: string;
  siadir: string;
  regionalsts: boolean;
  version: boolean;
}

const STRINGS = new Set(['cmd', 'zts', 'ztsport', 'ztscacert', 'dnsdomains', 'providerprefix', 'config', 'siadir']);
const BOOLS = new Set(['regionalsts', 'version']);

export function parseFlags(args: string[]): SiaFlags {
  const f: SiaFlags = {
    cmd: '', zts: '', ztsport: 4443, ztscacert: '', dnsdomains: '', providerprefix: '',
    config: '/etc/sia/sia_config', siadir: '/var/lib/sia', regionalsts: false, version: false,
  };
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) throw new Error(`unexpected argument ${args[i]} (flags look like -cmd post)`);
    const [, name, inline] = m;
    if (BOOLS.has(name)) {
      (f as unknown as Record<string, boolean>)[name] = inline === undefined ? true : inline === 'true';
    } else if (STRINGS.has(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new Error(`flag -${name} needs a value`);
      if (name === 'ztsport') {
        f.ztsport = Number(value);
        if (!Number.isInteger(f.ztsport) || f.ztsport <= 0 || f.ztsport > 65535) throw new Error(`-ztsport must be a port number, got ${value}`);
      } else (f as unknown as Record<string, string>)[name] = value;
    } else {
      throw new Error(`unknown flag -${name}`);
    }
  }
  return f;
}
