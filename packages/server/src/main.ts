/** The `tessera` command line. */
import { Command } from 'commander';
import { serveCommand } from './commands/serve.ts';
import type { ServeDefaults } from './server-config.ts';
import { demoCommand } from './commands/demo.ts';
import { awsSimCommand } from './commands/aws-sim.ts';

/** @param defaults what differs between a production start (the build) and development (the sources) */
export async function main(argv: string[], defaults: ServeDefaults = {}): Promise<void> {
  const program = new Command('tessera')
    .description('Tessera: Athenz-compatible service identities for AWS workloads')
    .addCommand(serveCommand(defaults))
    .addCommand(demoCommand())
    .addCommand(awsSimCommand());
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.stderr.write(`tessera: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
