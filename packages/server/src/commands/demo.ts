/** `tessera demo`: the EKS/Fargate workflow on a fresh embedded server, step by step. */
import { Command } from 'commander';
import type { DemoOptions } from '../demo/run-demo.ts';

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the EKS/Fargate workflow on a fresh embedded server and aws-sim, printing each step')
    .option('--data-dir <dir>', 'data dir, recreated on every run', '.tessera/demo')
    .option('--once', 'exit after the steps (status 0 only if all succeeded) instead of serving until Ctrl-C')
    .option('--zms-port <port>', 'ZMS HTTPS port', '4443')
    .option('--zts-port <port>', 'ZTS HTTPS port', '8443')
    .action(async (flags: DemoOptions) => {
      // Loaded when used: `tessera serve` should not carry aws-sim, siad and the AWS SDK.
      const { runDemo } = await import('../demo/run-demo.ts');
      process.exitCode = await runDemo(flags, (line) => process.stdout.write(`${line}\n`));
    });
}
