/**
 * `tessera aws-sim`: run the local AWS simulator (IAM, STS, ECS/EKS/EC2
 * metadata) on loopback until SIGINT/SIGTERM, and the commands a user runs
 * against it instead of the AWS console, ECS and EKS: create a role, launch a
 * Fargate task or an EKS pod and print its environment as a file to source.
 * For development and tests only.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';

interface AwsSimFlags {
  port: string;
  state?: string;
  account: string;
  region: string;
  certOut?: string;
  envOut?: string;
  serveEnvOut?: string;
}

/** The account and user of `tessera serve`'s own AWS identity in the simulator (the demo uses the same). */
export const SIM_SERVER_ACCOUNT = '999999999999';
export const SIM_SERVER_USER = 'zts';

const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;
const exports = (env: Record<string, string>): string[] => Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`);

// Sourcing a workload's file must not leave the admin's keys in the shell: the SDK would pick them before the task's.
const UNSET_ADMIN = 'unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE';

function account(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new Error(`--account must be 12 digits, got '${value}'`);
  return value;
}

/** A role given by name (in --account) or by ARN. */
function roleArn(role: string, acct: string): string {
  return role.startsWith('arn:') ? role : `arn:aws:iam::${account(acct)}:role/${role}`;
}

/** What the subcommands need from `. ./aws-sim.env`. */
function simEnv(env: NodeJS.ProcessEnv): { url: string; token: string } {
  const url = env.AWS_SIM_URL;
  const token = env.AWS_SIM_ADMIN_TOKEN;
  if (!url || !token) throw new Error('AWS_SIM_URL and AWS_SIM_ADMIN_TOKEN are not set: source the file `tessera aws-sim --env-out` wrote first, e.g. `. ./aws-sim.env`');
  return { url, token };
}

/** POST to the simulator's admin API; its refusals come back as errors with AWS's code and message. */
async function admin<T>(path: string, body: unknown): Promise<T> {
  const { url, token } = simEnv(process.env);
  const res = await fetch(`${url}/_sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  }).catch((e: Error) => {
    throw new Error(`cannot reach aws-sim at ${url}: ${e.cause instanceof Error ? e.cause.message : e.message} (is \`tessera aws-sim\` running?)`);
  });
  const json = (await res.json().catch(() => ({}))) as T & { error?: string; message?: string };
  if (!res.ok) throw new Error(`${json.error ? `${json.error}: ` : ''}${json.message ?? `HTTP ${res.status}`}`);
  return json;
}

/** The workload's environment as a file to source: what its containers see. */
function workloadEnvFile(what: string, env: Record<string, string>): string {
  return [`# ${what}`, '# Source it in a shell (or a subshell) to act as the workload: `. ./task.env`.', UNSET_ADMIN, ...exports(env)].join('\n') + '\n';
}

/** The AWS CLI's file://path or inline JSON. */
function policyDocument(value: string, flag = '--assume-role-policy-document'): string {
  const text = value.startsWith('file://') ? readFileSync(value.slice('file://'.length), 'utf8') : value;
  try {
    JSON.parse(text);
  } catch {
    throw new Error(`${flag} is not JSON: give file://path or the JSON itself`);
  }
  return text;
}

/** An IAM client for aws-sim from the sourced environment. */
async function simIam() {
  const { url } = simEnv(process.env);
  const iam = await import('@aws-sdk/client-iam');
  return { iam, client: new iam.IAMClient({ endpoint: process.env.AWS_ENDPOINT_URL_IAM ?? url, region: process.env.AWS_REGION ?? 'us-east-1' }) };
}

/**
 * Written whole under a temporary name, then renamed: a shell waiting for the
 * file (the README's terminal 1) never sources half of it.
 */
function writeEnvFile(file: string, lines: string[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.join('\n') + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * What `tessera serve` needs to use the simulator as its AWS: the endpoints
 * (STS for the fallback, IAM for the accounts' OIDC providers, the issuers'
 * documents) and an identity of its own, which domain accounts trust with
 * their `oidc-issuers-reader` role. On AWS, ZTS has its own role instead.
 */
function serveEnv(url: string, region: string, key: { accessKeyId: string; secretAccessKey: string; arn: string }): string[] {
  return [
    `# tessera serve's AWS in development: aws-sim at ${url}, ZTS's own identity ${key.arn}.`,
    'unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE',
    ...exports({
      TESSERA_AWS_STS_ENDPOINT: url,
      TESSERA_AWS_IAM_ENDPOINT: url,
      TESSERA_AWS_OIDC_ENDPOINT: `${url}/oidc`,
      TESSERA_AWS_REGION: region,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
  ];
}

function startCommand(): Command {
  return new Command('start')
    .description('run the simulator (the default subcommand)')
    .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one)', '4566')
    .option('--state <file>', 'keep accounts, roles, keys and launches in this JSON file across restarts')
    .option('--account <id>', 'AWS account whose root credentials are printed', '123456789012')
    .option('--region <region>', 'region of launches that name none', 'us-west-2')
    .option('--cert-out <file>', 'also write the instance identity document certificate (PEM) to this file')
    .option('--env-out <file>', 'also write the environment below to this file (mode 0600), to source in other shells')
    .option('--serve-env-out <file>', `write the environment for \`tessera serve\` (mode 0600): aws-sim's STS, IAM and OIDC endpoints and ZTS's own identity, user ${SIM_SERVER_USER} of account ${SIM_SERVER_ACCOUNT}`)
    .action(async (flags: AwsSimFlags) => {
      const port = Number(flags.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got '${flags.port}'`);
      account(flags.account);
      // Loaded when used: `tessera serve` in the same program should not carry the simulator or the AWS SDK.
      const { startAwsSim } = await import('@tessera/aws-sim/sim');
      const sim = await startAwsSim({ port, stateFile: flags.state, region: flags.region });
      const root = sim.rootCredentials(flags.account);
      if (flags.certOut) writeFileSync(flags.certOut, sim.identityDocumentCertPem);
      const env = [
        `# AWS CLI/SDK environment for aws-sim at ${sim.url}, with the root credentials of account ${flags.account}:`,
        ...exports(root.env),
        '# For `tessera aws-sim create-role | update-assume-role-policy | launch-task | launch-pod | describe-cluster`:',
        ...exports({ AWS_SIM_URL: sim.url, AWS_SIM_ADMIN_TOKEN: sim.adminToken }),
      ];
      if (flags.serveEnvOut) writeEnvFile(flags.serveEnvOut, serveEnv(sim.url, flags.region, sim.createAccessKey(SIM_SERVER_ACCOUNT, { userName: SIM_SERVER_USER })));
      if (flags.envOut) writeEnvFile(flags.envOut, env);
      const lines = [
        '# aws-sim: a local AWS for development and tests only. Never point production at it.',
        `# Listening on ${sim.url}; state ${flags.state ? `in ${flags.state}` : 'in memory only'}.`,
        ...(flags.envOut ? [`# Environment written to ${flags.envOut}: \`. ${flags.envOut.includes('/') ? '' : './'}${flags.envOut}\` in another shell.`] : env),
        ...(flags.serveEnvOut ? [`# tessera serve's AWS (endpoints, ${SIM_SERVER_USER} of ${SIM_SERVER_ACCOUNT}) written to ${flags.serveEnvOut}.`] : []),
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

function createRoleCommand(): Command {
  return new Command('create-role')
    .description('IAM CreateRole against aws-sim, with the AWS CLI\'s flags (`aws iam create-role` on real AWS)')
    .requiredOption('--role-name <name>', 'the role, e.g. sports.api-service or sports.api')
    .requiredOption('--assume-role-policy-document <json>', 'its trust policy: file://path or the JSON')
    .option('--path <path>', 'role path', '/')
    .action(async (flags: { roleName: string; assumeRolePolicyDocument: string; path: string }) => {
      const document = policyDocument(flags.assumeRolePolicyDocument);
      const { iam, client } = await simIam();
      try {
        const out = await client.send(new iam.CreateRoleCommand({ RoleName: flags.roleName, Path: flags.path, AssumeRolePolicyDocument: document }));
        process.stdout.write(`created role ${out.Role?.Arn}\n`);
      } catch (e) {
        const err = e as Error;
        const hint = /EntityAlreadyExists/.test(err.name) ? `; to change its trust policy: tessera aws-sim update-assume-role-policy --role-name ${flags.roleName} --policy-document <file://…>` : '';
        throw new Error(`CreateRole ${flags.roleName}: ${err.name}: ${err.message}${hint}`);
      } finally {
        client.destroy();
      }
    });
}

/** The repair for a wrong trust policy; `aws iam update-assume-role-policy` does the same against aws-sim. */
function updateAssumeRolePolicyCommand(): Command {
  return new Command('update-assume-role-policy')
    .description('IAM UpdateAssumeRolePolicy against aws-sim, with the AWS CLI\'s flags: replace a role\'s trust policy')
    .requiredOption('--role-name <name>', 'the role whose trust policy to replace, e.g. sports.api')
    .requiredOption('--policy-document <json>', 'the new trust policy: file://path or the JSON')
    .action(async (flags: { roleName: string; policyDocument: string }) => {
      const document = policyDocument(flags.policyDocument, '--policy-document');
      const { iam, client } = await simIam();
      try {
        await client.send(new iam.UpdateAssumeRolePolicyCommand({ RoleName: flags.roleName, PolicyDocument: document }));
        process.stdout.write(`updated the trust policy of role ${flags.roleName}\n`);
      } catch (e) {
        const err = e as Error;
        const hint = err.name === 'NoSuchEntityException' || err.name === 'NoSuchEntity' ? `; create it first: tessera aws-sim create-role --role-name ${flags.roleName} --assume-role-policy-document <file://…>` : '';
        throw new Error(`UpdateAssumeRolePolicy ${flags.roleName}: ${err.name}: ${err.message}${hint}`);
      } finally {
        client.destroy();
      }
    });
}

function launchTaskCommand(): Command {
  return new Command('launch-task')
    .description('launch a simulated Fargate task and print its environment as a file to source')
    .requiredOption('--task-role <role>', 'the task role, by name (in --account) or ARN')
    .option('--account <id>', 'account of a role given by name', '123456789012')
    .option('--cluster <name>', 'ECS cluster', 'default')
    .option('--region <region>', 'region (default: aws-sim\'s)')
    .action(async (flags: { taskRole: string; account: string; cluster: string; region?: string }) => {
      const task = await admin<{ taskArn: string; env: Record<string, string> }>('fargate-tasks', {
        taskRole: roleArn(flags.taskRole, flags.account),
        cluster: flags.cluster,
        ...(flags.region ? { region: flags.region } : {}),
      });
      process.stdout.write(workloadEnvFile(`Fargate task ${task.taskArn}`, task.env));
    });
}

function launchPodCommand(): Command {
  return new Command('launch-pod')
    .description('launch a simulated EKS pod (Pod Identity or IRSA) and print its environment as a file to source')
    .requiredOption('--role <role>', 'the pod\'s role, by name (in --account) or ARN')
    .option('--mode <mode>', 'pod-identity or irsa', 'pod-identity')
    .option('--account <id>', 'account of a role given by name', '123456789012')
    .option('--cluster <name>', 'EKS cluster', 'default')
    .option('--namespace <ns>', 'Kubernetes namespace', 'default')
    .option('--service-account <name>', 'Kubernetes service account', 'default')
    .option('--token-audience <aud>', 'a projected service-account token for this audience (the ZTS URL), named by TESSERA_SA_TOKEN_FILE')
    .action(async (flags: { role: string; mode: string; account: string; cluster: string; namespace: string; serviceAccount: string; tokenAudience?: string }) => {
      const pod = await admin<{ podName: string; namespace: string; env: Record<string, string> }>('eks-pods', {
        mode: flags.mode,
        role: roleArn(flags.role, flags.account),
        account: account(flags.account),
        cluster: flags.cluster,
        namespace: flags.namespace,
        serviceAccount: flags.serviceAccount,
        ...(flags.tokenAudience ? { tokenAudience: flags.tokenAudience } : {}),
      });
      // Kubernetes tells siad the namespace through the service account mount; here through the variable siad reads.
      process.stdout.write(workloadEnvFile(`EKS pod ${pod.namespace}/${pod.podName} (${flags.mode})`, { ...pod.env, ATHENZ_SIA_POD_NAMESPACE: pod.namespace }));
    });
}

function describeClusterCommand(): Command {
  return new Command('describe-cluster')
    .description('an EKS cluster (created on first use) with its OIDC issuer and provider ARN, for an IRSA trust policy')
    .requiredOption('--cluster <name>', 'EKS cluster')
    .option('--account <id>', 'account', '123456789012')
    .action(async (flags: { cluster: string; account: string }) => {
      const cluster = await admin<Record<string, unknown>>('eks-clusters', { cluster: flags.cluster, account: account(flags.account) });
      process.stdout.write(JSON.stringify(cluster, null, 2) + '\n');
    });
}

export function awsSimCommand(): Command {
  return new Command('aws-sim')
    .description('a local AWS stand-in (IAM, STS, ECS/EKS/EC2 metadata) on 127.0.0.1 — development and tests only')
    .addCommand(startCommand(), { isDefault: true })
    .addCommand(createRoleCommand())
    .addCommand(updateAssumeRolePolicyCommand())
    .addCommand(launchTaskCommand())
    .addCommand(launchPodCommand())
    .addCommand(describeClusterCommand());
}
