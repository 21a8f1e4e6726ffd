/**
 * docs/examples' IAM roles as code (Terraform and CloudFormation): their two
 * roles and trust policies are extracted from the files as written, created in
 * aws-sim through the AWS SDK, and enforced: a Fargate task with the workload
 * role assumes <domain>.<service>; another role, or an EC2 instance with the
 * workload role, is refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { parse, type Tags } from 'yaml';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';

const EXAMPLES = new URL('../docs/examples/', import.meta.url).pathname;

interface RoleDef {
  /** The resource's name in the file. */
  id: string;
  roleName: string;
  trustPolicy: string;
}

/** Terraform: each aws_iam_role's name and heredoc assume_role_policy, with variables and role ARNs filled in. */
function terraformRoles(text: string, vars: Record<string, string>, account: string): RoleDef[] {
  const blocks = [...text.matchAll(/^resource "aws_iam_role" "(\w+)" \{\n([\s\S]*?)^\}/gm)];
  const names = new Map<string, string>();
  const fill = (s: string) =>
    s
      .replace(/\$\{var\.(\w+)\}/g, (_, v: string) => vars[v] ?? assert.fail(`no value for var.${v}`))
      .replace(/\$\{aws_iam_role\.(\w+)\.arn\}/g, (_, r: string) => `arn:aws:iam::${account}:role/${names.get(r) ?? assert.fail(`aws_iam_role.${r} is not defined before its use`)}`);
  return blocks.map(([, id, body]) => {
    const name = /^\s*name\s*=\s*"([^"]+)"/m.exec(body)?.[1] ?? assert.fail(`aws_iam_role.${id}: no name`);
    const heredoc = /assume_role_policy\s*=\s*<<-?(\w+)\n([\s\S]*?)\n\s*\1\s*$/m.exec(body) ?? assert.fail(`aws_iam_role.${id}: no assume_role_policy heredoc`);
    const roleName = fill(name);
    names.set(id, roleName);
    return { id, roleName, trustPolicy: JSON.stringify(JSON.parse(fill(heredoc[2]))) };
  });
}

/** CloudFormation: each AWS::IAM::Role's RoleName and AssumeRolePolicyDocument, with !Sub, !GetAtt and !Ref resolved. */
function cloudFormationRoles(text: string, account: string): RoleDef[] {
  const tags: Tags = [
    { tag: '!Sub', resolve: (s: string) => ({ 'Fn::Sub': s }) },
    { tag: '!GetAtt', resolve: (s: string) => ({ 'Fn::GetAtt': s }) },
    { tag: '!Ref', resolve: (s: string) => ({ Ref: s }) },
  ];
  const template = parse(text, { customTags: tags }) as {
    Parameters: Record<string, { Default?: string }>;
    Resources: Record<string, { Type: string; Properties: { RoleName: unknown; AssumeRolePolicyDocument: unknown } }>;
  };
  const names = new Map<string, string>();
  const ref = (name: string): string =>
    name === 'AWS::AccountId' ? account : template.Parameters[name]?.Default ?? assert.fail(`no value for ${name}`);
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'].replace(/\$\{([\w:]+)\}/g, (_, n: string) => ref(n));
    if (typeof o.Ref === 'string') return ref(o.Ref);
    if (typeof o['Fn::GetAtt'] === 'string') {
      const [res, attr] = o['Fn::GetAtt'].split('.');
      assert.equal(attr, 'Arn');
      return `arn:aws:iam::${account}:role/${names.get(res) ?? assert.fail(`${res} is not defined before its use`)}`;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([id, r]) => {
      const roleName = resolve(r.Properties.RoleName) as string;
      names.set(id, roleName);
      return { id, roleName, trustPolicy: JSON.stringify(resolve(r.Properties.AssumeRolePolicyDocument)) };
    });
}

let sim: AwsSim;
before(async () => {
  sim = await startAwsSim();
});
after(() => sim?.close());

const SOURCES = [
  { file: 'iam-roles.tf', account: '111111111111', roles: (text: string, account: string) => terraformRoles(text, { domain: 'sports', service: 'api', account_id: account }, account) },
  { file: 'iam-roles.cfn.yaml', account: '222222222222', roles: cloudFormationRoles },
];

for (const source of SOURCES) {
  describe(`${source.file}: aws-sim accepts and enforces its roles`, () => {
    const { account } = source;
    const arn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
    let iam: IAMClient;
    before(() => {
      iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(account, { userName: 'admin' }) });
    });
    after(() => iam?.destroy());

    /** A Fargate task with this task role: its credentials, then AssumeRole of sports.api. */
    async function assumeFromTask(taskRole: string) {
      const task = await sim.launchFargateTask({ taskRole, account, region: 'us-west-2', cluster: 'prod' });
      const saved = { ...process.env };
      Object.assign(process.env, task.env);
      let creds;
      try {
        creds = await fromContainerMetadata()();
      } finally {
        for (const k of Object.keys(task.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
      }
      const sts = new STSClient({ region: 'us-west-2', endpoint: sim.url, credentials: creds });
      try {
        return await sts.send(new AssumeRoleCommand({ RoleArn: arn('sports.api'), RoleSessionName: 'sports.api' }));
      } finally {
        sts.destroy();
      }
    }

    test('IAM creates both roles from the extracted documents', async () => {
      const roles = source.roles(readFileSync(join(EXAMPLES, source.file), 'utf8'), account);
      assert.deepEqual(roles.map((r) => r.roleName), ['sports.api-service', 'sports.api']);
      for (const r of roles) {
        await iam.send(new CreateRoleCommand({ RoleName: r.roleName, AssumeRolePolicyDocument: r.trustPolicy }));
        const got = await iam.send(new GetRoleCommand({ RoleName: r.roleName }));
        assert.equal(got.Role?.Arn, arn(r.roleName));
        assert.deepEqual(JSON.parse(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)), JSON.parse(r.trustPolicy));
      }
    });

    test('a Fargate task with the workload role assumes sports.api', async () => {
      const out = await assumeFromTask('sports.api-service');
      assert.match(out.AssumedRoleUser!.Arn!, new RegExp(`^arn:aws:sts::${account}:assumed-role/sports\\.api/sports\\.api$`));
    });

    test('an EKS pod (Pod Identity) may use the workload role too', async () => {
      const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'sports.api-service', account, cluster: 'prod', namespace: 'default', podName: 'api' });
      assert.ok(pod.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
    });

    test('a task with another role is refused by the sports.api trust policy', async () => {
      await iam.send(new CreateRoleCommand({ RoleName: 'sports.other-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
      await assert.rejects(assumeFromTask('sports.other-service'), (e: Error) => {
        assert.equal(e.name, 'AccessDenied');
        assert.match(e.message, new RegExp(`sports\\.other-service.*not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${account}:role/sports\\.api`));
        return true;
      });
    });

    test('an EC2 instance cannot use the workload role: its trust names only ECS tasks and EKS pods', async () => {
      await assert.rejects(sim.launchEc2Instance({ role: 'sports.api-service', account, region: 'us-west-2' }), /ec2\.amazonaws\.com/);
    });
  });
}
