/** The `tessera` command line. */
import { Command } from 'commander';
import { serveCommand } from './commands/serve.ts';
import { demoCommand } from './commands/demo.ts';
import { awsSimCommand } from './commands/aws-sim.ts';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('tessera')
    .description('Tessera: Athenz-compatible service identities for AWS workloads')
    .addCommand(serveCommand())
    .addCommand(demoCommand())
    .addCommand(awsSimCommand());
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.stderr.write(`tessera: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
