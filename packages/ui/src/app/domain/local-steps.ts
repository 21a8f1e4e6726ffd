/**
 * The README's walkthrough (steps 1, 5, 6 and 7) as commands against aws-sim,
 * filled in for one domain and service: start aws-sim and the server, create
 * the roles with their trust policies inline, launch the workload, run siad.
 * The commands are the real aws-sim CLI (packages/server/src/commands/aws-sim.ts).
 */
import { policy, serviceTrust, splitProvider, workloadTrust } from './trust-policies.ts';

/** `eks-token` first, as in the README: the pod's projected token, checked by ZTS with no STS call. */
export type LocalPlatform = 'eks-token' | 'fargate' | 'eks-pod-identity';

export interface LocalStepsInput {
  domain: string;
  service: string;
  /** The domain's AWS account: aws-sim's root credentials and roles are in it. */
  account: string;
  /** The provider principal allowed, e.g. athenz.aws.us-west-2 (the region is the workload's). */
  provider: string;
  platform: LocalPlatform;
  ztsHost: string;
  ztsPort: number;
  dnsSuffix: string;
}

/** ZTS's own identity in aws-sim, as `aws-sim --serve-env-out` writes it (SIM_SERVER_ACCOUNT, SIM_SERVER_USER). */
const ZTS_IN_SIM = 'arn:aws:iam::999999999999:user/zts';

/** A shell word: JSON and names go in single quotes. */
const sh = (v: string): string => (/^[\w.:/@=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
const oneLine = (json: string): string => JSON.stringify(JSON.parse(json));

export function localSteps(i: LocalStepsInput): { start: string; commands: string } {
  const full = `${i.domain}.${i.service}`;
  const { prefix, region } = splitProvider(i.provider);
  const k8sName = i.domain.replace(/\./g, '-');
  const siad = (cmd: string) =>
    `(. ./task.env && npx siad -cmd ${cmd} -zts ${i.ztsHost} -ztsport ${i.ztsPort} -ztscacert ./data/ca.cert.pem \\\n   -dnsdomains ${i.dnsSuffix} -providerprefix ${prefix} -siadir ./sia)`;
  const createRole = (name: string, trust: string) => `npx tessera aws-sim create-role --role-name ${sh(name)} \\\n  --assume-role-policy-document ${sh(oneLine(trust))}`;
  let roles: string[];
  let launch: string;
  if (i.platform === 'eks-token') {
    // The pod's own role can be anything; ZTS reads the account's cluster issuers through oidc-issuers-reader.
    // That role is per account: a second service finds it there and writes the same trust again.
    const readerTrust = oneLine(policy({ Effect: 'Allow', Principal: { AWS: ZTS_IN_SIM }, Action: 'sts:AssumeRole' }));
    roles = [
      `npx tessera aws-sim create-role --role-name oidc-issuers-reader --assume-role-policy-document ${sh(readerTrust)} 2>/dev/null \\\n  || npx tessera aws-sim update-assume-role-policy --role-name oidc-issuers-reader --policy-document ${sh(readerTrust)}`,
      createRole(`${full}-pod`, workloadTrust('eks-pod-identity', i.account, { issuer: '', namespace: '', serviceAccount: '' })),
    ];
    launch = `npx tessera aws-sim launch-pod --role ${sh(`${full}-pod`)} --account ${i.account} --cluster ${sh(k8sName)} \\\n  --namespace ${sh(k8sName)} --service-account ${sh(full)} --token-audience https://${i.ztsHost}:${i.ztsPort}/zts/v1 > task.env`;
  } else {
    const workloadRole = `${full}-service`;
    roles = [createRole(workloadRole, workloadTrust(i.platform, i.account, { issuer: '', namespace: '', serviceAccount: '' })), createRole(full, serviceTrust(i.account, workloadRole))];
    launch =
      i.platform === 'fargate'
        ? `npx tessera aws-sim launch-task --task-role ${sh(workloadRole)} --account ${i.account} --cluster ${sh(k8sName)} > task.env`
        : `npx tessera aws-sim launch-pod --role ${sh(workloadRole)} --mode pod-identity --account ${i.account} --cluster ${sh(k8sName)} \\\n  --namespace ${sh(k8sName)} --service-account ${sh(`${k8sName}-${i.service}`)} > task.env`;
  }
  return {
    // Terminal 1 of the README: the server takes its AWS (aws-sim's endpoints, ZTS's own identity) from serve-aws.env.
    start: [
      'rm -f serve-aws.env',
      `npx tessera aws-sim --port 4566 --account ${i.account} --region ${region} --env-out aws-sim.env --serve-env-out serve-aws.env &`,
      'while [ ! -f serve-aws.env ]; do sleep 0.2; done',
      '(. ./serve-aws.env && npx tessera serve --data-dir ./data)',
    ].join('\n'),
    commands: ['. ./aws-sim.env', ...roles, launch, siad('diagnose'), siad('post'), `openssl x509 -in sia/certs/${full}.cert.pem -noout -subject -enddate`].join('\n'),
  };
}
