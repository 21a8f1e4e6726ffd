/** The IAM trust policies of the two roles a workload needs, and the provider name split as siad takes it. */

export type Platform = 'eks-token' | 'fargate' | 'eks-pod-identity' | 'eks-irsa' | 'ecs-ec2';

export const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] }, null, 2);

/** The workload role's own trust: the AWS service (or OIDC provider) that hands the role to the task or pod. */
export function workloadTrust(platform: Platform, account: string, irsa: { issuer: string; namespace: string; serviceAccount: string }): string {
  if (platform === 'eks-pod-identity') return policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
  if (platform === 'eks-irsa') {
    return policy({
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${irsa.issuer}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${irsa.issuer}:sub`]: `system:serviceaccount:${irsa.namespace}:${irsa.serviceAccount}`, [`${irsa.issuer}:aud`]: 'sts.amazonaws.com' } },
    });
  }
  return policy({ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' });
}

/** The service role's trust: the workload role may assume it. */
export const serviceTrust = (account: string, workloadRole: string): string =>
  policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/${workloadRole}` }, Action: 'sts:AssumeRole' });

/** `athenz.aws.us-west-2` → prefix `athenz.aws`, region `us-west-2` (siad adds the region back). */
export function splitProvider(principal: string): { prefix: string; region: string } {
  const dot = principal.lastIndexOf('.');
  return { prefix: principal.slice(0, dot), region: principal.slice(dot + 1) };
}
