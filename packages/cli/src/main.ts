/** zms-cli: the Athenz-compatible admin command line for Tessera's ZMS. */
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { normalizeArgs } from './argv.ts';
import { formatError, printer, type Format } from './output.ts';
import { LoginError, openSession } from './session.ts';
import { ZmsError, zmsCaller } from './zms.ts';
import { addCommands, type CommandContext } from './commands.ts';

export interface Io {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
  stdin: Readable & { isTTY?: boolean };
}

interface GlobalFlags {
  zms?: string;
  ca?: string;
  domain?: string;
  key?: string;
  cert?: string;
  identity?: string;
  output?: string;
}

const DEFAULT_ZMS = 'https://localhost:4443/zms/v1';

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Runs zms-cli with these arguments; returns the exit status. */
export async function main(args: string[], io: Io): Promise<number> {
  let status = 0;
  let format: Format = 'manual';
  const program = new Command('zms-cli')
    .description('administer Tessera (Athenz-compatible) ZMS: domains, AWS accounts, services, roles, policies')
    .option('-z, --zms <url>', `ZMS URL (env ZMS; default ${DEFAULT_ZMS})`)
    .option('-c, --ca <file>', 'CA certificate that signed the ZMS server certificate (env ZMS_CA)')
    .option('-d, --domain <domain>', 'domain the command acts on')
    .option('--key <file>', 'client key for mTLS (Athenz style: -key)')
    .option('--cert <file>', 'client certificate for mTLS (Athenz style: -cert)')
    .option('-i, --identity <user>', 'user to log in as (env TESSERA_USER; default user.$USER); password from TESSERA_PASSWORD or a prompt')
    .option('-o, --output <format>', 'json or yaml (default: zms-cli manual YAML)')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  const run = (action: (c: CommandContext) => Promise<void>) => async () => {
    const g = program.opts<GlobalFlags>();
    try {
      if (g.output && g.output !== 'json' && g.output !== 'yaml') throw new Error(`-o takes json or yaml, not ${g.output}`);
      format = (g.output as Format | undefined) ?? 'manual';
      if (!!g.key !== !!g.cert) throw new Error('-key and -cert go together');
      const identityRaw = g.identity ?? io.env.TESSERA_USER ?? `user.${io.env.USER ?? userInfo().username}`;
      const identity = identityRaw.includes('.') ? identityRaw : `user.${identityRaw}`;
      const caPath = g.ca ?? io.env.ZMS_CA;
      const session = openSession({
        zmsUrl: (g.zms ?? io.env.ZMS ?? DEFAULT_ZMS).replace(/\/$/, ''),
        ...(caPath ? { ca: readFile(caPath, 'CA certificate') } : {}),
        ...(g.key && g.cert ? { key: readFile(g.key, 'key'), cert: readFile(g.cert, 'certificate') } : {}),
        identity,
        home: io.env.HOME ?? homedir(),
        ...(io.env.TESSERA_PASSWORD ? { password: io.env.TESSERA_PASSWORD } : {}),
        stdin: io.stdin,
        stderr: io.stderr,
      });
      await action({
        zms: zmsCaller(session),
        out: printer(format, (s) => io.stdout.write(s)),
        domain: () => {
          if (!g.domain) throw new Error('no domain specified. Use -d argument to specify the domain. See zms-cli -h for details');
          return g.domain;
        },
        ...(g.key ? {} : { self: identity }),
      });
    } catch (e) {
      status = 1;
      if (e instanceof ZmsError || e instanceof LoginError) {
        io.stderr.write(formatError(format, e instanceof ZmsError ? e.code : e.status, e.message));
      } else {
        io.stderr.write(`zms-cli: ${(e as Error).message}\n`);
      }
    }
  };
  addCommands(program, run);

  try {
    await program.parseAsync(normalizeArgs(args), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 || e.code === 'commander.helpDisplayed' ? 0 : 2;
    throw e;
  }
  return status;
}
