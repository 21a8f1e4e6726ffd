/**
 * The README's walkthrough (steps 1, 5, 6 and 7) as commands against aws-sim,
 * filled in for one domain and service: start aws-sim and the server, create
 * both roles with their trust policies inline, launch the workload, run siad.
 * The commands are the real aws-sim CLI (packages/server/src/commands/aws-sim.ts).
 */
import { serviceTrust, splitProvider, workloadTrust } from './trust-policies.ts';

export type LocalPlatform = 'fargate' | 'eks-pod-identity';

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

/** A shell word: JSON and names go in single quotes. */
const sh = (v: string): string => (/^[\w.:/@=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
const oneLine = (json: string): string => JSON.stringify(JSON.parse(json));

export function localSteps(i: LocalStepsInput): { start: string; commands: string } {
  const full = `${i.domain}.${i.service}`;
  const workloadRole = `${full}-service`;
  const { prefix, region } = splitProvider(i.provider);
  const k8sName = i.domain.replace(/\./g, '-');
  const workloadPolicy = oneLine(workloadTrust(i.platform, i.account, { issuer: '', namespace: '', serviceAccount: '' }));
  const launch =
    i.platform === 'fargate'
      ? `npx tessera aws-sim launch-task --task-role ${sh(workloadRole)} --account ${i.account} --cluster ${sh(k8sName)} > task.env`
      : `npx tessera aws-sim launch-pod --role ${sh(workloadRole)} --mode pod-identity --account ${i.account} --cluster ${sh(k8sName)} \\\n  --namespace ${sh(k8sName)} --service-account ${sh(`${k8sName}-${i.service}`)} > task.env`;
  const siad = (cmd: string) =>
    `(. ./task.env && npx siad -cmd ${cmd} -zts ${i.ztsHost} -ztsport ${i.ztsPort} -ztscacert ./data/ca.cert.pem \\\n   -dnsdomains ${i.dnsSuffix} -providerprefix ${prefix} -siadir ./sia)`;
  return {
    start: [
      `npx tessera aws-sim --port 4566 --account ${i.account} --region ${region} --env-out aws-sim.env &`,
      `npx tessera serve --data-dir ./data --aws-sts-endpoint http://127.0.0.1:4566`,
    ].join('\n'),
    commands: [
      '. ./aws-sim.env',
      `npx tessera aws-sim create-role --role-name ${sh(workloadRole)} \\\n  --assume-role-policy-document ${sh(workloadPolicy)}`,
      `npx tessera aws-sim create-role --role-name ${sh(full)} \\\n  --assume-role-policy-document ${sh(oneLine(serviceTrust(i.account, workloadRole)))}`,
      launch,
      siad('diagnose'),
      siad('post'),
      `openssl x509 -in sia/certs/${full}.cert.pem -noout -subject -enddate`,
    ].join('\n'),
  };
}
