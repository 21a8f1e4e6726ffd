/** Shared test setup: a simulator on a controllable clock, SDK clients pointed at it, scoped env. */
import assert from 'node:assert/strict';
import { IAMClient, CreateRoleCommand } from '@aws-sdk/client-iam';
import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { startAwsSim, type AwsSim, type AwsSimOptions } from '../src/sim.ts';

export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '210987654321';

export interface TestSim {
  sim: AwsSim;
  /** Moves the simulator's clock (not the process clock). */
  advance(ms: number): void;
  now(): Date;
}

export async function startTestSim(options: AwsSimOptions = {}): Promise<TestSim> {
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const sim = await startAwsSim({ clock: now, ...options });
  return { sim, now, advance: (ms) => (offset += ms) };
}

type Creds = NonNullable<STSClientConfig['credentials']>;

/** Where a simulator listens: an AwsSim, or the URL another process printed. */
export type SimAddress = Pick<AwsSim, 'url' | 'region'>;

export function iamClient(sim: SimAddress, credentials: Creds): IAMClient {
  return new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials });
}

export function stsClient(sim: SimAddress, credentials: Creds, extra: Record<string, unknown> = {}): STSClient {
  return new STSClient({ region: sim.region, endpoint: sim.url, credentials, ...extra });
}

export async function createRole(iam: IAMClient, name: string, policy: string, path?: string): Promise<string> {
  const out = await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: policy, Path: path }));
  return out.Role!.Arn!;
}

/**
 * Rejects with this AWS error. The SDK names modeled errors by their exception
 * class (NoSuchEntity → NoSuchEntityException), others by the code itself.
 */
export async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.equal(e.name, code, `expected ${code}, got ${e.name}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const SCOPED = /^(AWS_|ECS_CONTAINER_METADATA_URI)/;

/**
 * Runs `fn` with exactly this AWS environment (plus HOSTNAME), for providers
 * that only read process.env; everything is restored afterwards.
 */
export async function withAwsEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  const touched = new Set([...Object.keys(process.env).filter((k) => SCOPED.test(k)), ...Object.keys(env), 'HOSTNAME']);
  for (const k of touched) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  // Keep a developer's ~/.aws files out of the default chain.
  Object.assign(process.env, { AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-sim-test', AWS_CONFIG_FILE: '/nonexistent/aws-sim-test' }, env);
  try {
    return await fn();
  } finally {
    for (const k of [...touched, 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}
