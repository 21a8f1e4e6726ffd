/**
 * `tessera aws-sim`: run the local AWS simulator (IAM, STS, ECS/EKS/EC2
 * metadata) on loopback until SIGINT/SIGTERM. For development and tests only.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { startAwsSim } from '@tessera/aws-sim/sim';

interface AwsSimFlags {
  port: string;
  state?: string;
  account: string;
  region: string;
  certOut?: string;
}

const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

export function awsSimCommand(): Command {
  return new Command('aws-sim')
    .description('run a local AWS stand-in (IAM, STS, ECS/EKS/EC2 metadata) on 127.0.0.1 — development and tests only')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '4566')
    .option('--state <file>', 'keep accounts, roles, keys and launches in this JSON file across restarts')
    .option('--account <id>', 'AWS account whose root credentials are printed', '123456789012')
    .option('--region <region>', 'region of launches that name none', 'us-west-2')
    .option('--cert-out <file>', 'also write the instance identity document certificate (PEM) to this file')
    .action(async (flags: AwsSimFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got '${flags.port}'`);
      if (!/^\d{12}$/.test(flags.account)) throw new Error(`--account must be 12 digits, got '${flags.account}'`);
      const sim = await startAwsSim({ port, stateFile: flags.state, region: flags.region });
      const root = sim.rootCredentials(flags.account);
      if (flags.certOut) writeFileSync(flags.certOut, sim.identityDocumentCertPem);
      const lines = [
        '# aws-sim: a local AWS for development and tests only. Never point production at it.',
        `# Listening on ${sim.url}; state ${flags.state ? `in ${flags.state}` : 'in memory only'}.`,
        `# AWS SDK environment, with the root credentials of account ${flags.account}:`,
        ...Object.entries(root.env).map(([k, v]) => `export ${k}=${quote(v)}`),
        '# Admin API: POST $AWS_SIM_URL/_sim/{access-keys,fargate-tasks,eks-pods,ec2-instances,eks-clusters}',
        '# with "Authorization: Bearer $AWS_SIM_ADMIN_TOKEN" and a JSON body; the reply carries the workload env.',
        `export AWS_SIM_URL=${quote(sim.url)}`,
        `export AWS_SIM_ADMIN_TOKEN=${quote(sim.adminToken)}`,
        `# Instance identity document certificate: ${flags.certOut ?? `GET ${sim.url}/_sim/identity-document-cert`}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        await sim.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
