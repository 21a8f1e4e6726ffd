/** Runs `tessera aws-sim` with the given arguments, as the binary would (used by cli.test.ts). */
import { awsSimCommand } from '@tessera/server/commands/aws-sim';

await awsSimCommand().parseAsync(process.argv.slice(2), { from: 'user' });
