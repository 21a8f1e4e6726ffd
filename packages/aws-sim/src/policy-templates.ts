/**
 * Trust policy documents for the common cases, as the Athenz AWS guides write
 * them. Plain JSON strings: callers pass them to IAM CreateRole like any other.
 */

const document = (statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** Lets an AWS service assume the role: `ecs-tasks.amazonaws.com`, `ec2.amazonaws.com`, … */
export function serviceTrustPolicy(service: string, actions: string[] = ['sts:AssumeRole']): string {
  return document([{ Effect: 'Allow', Principal: { Service: service }, Action: actions.length === 1 ? actions[0] : actions }]);
}

/** EKS Pod Identity needs both actions, as in AWS. */
export function podIdentityTrustPolicy(): string {
  return serviceTrustPolicy('pods.eks.amazonaws.com', ['sts:AssumeRole', 'sts:TagSession']);
}

/** Lets the given role/user ARNs (or account ids) assume the role: the `<domain>.<service>` trust relationship. */
export function awsTrustPolicy(principals: string | string[], options: { externalId?: string } = {}): string {
  return document([
    {
      Effect: 'Allow',
      Principal: { AWS: principals },
      Action: 'sts:AssumeRole',
      ...(options.externalId ? { Condition: { StringEquals: { 'sts:ExternalId': options.externalId } } } : {}),
    },
  ]);
}

/** IRSA: trusts an EKS cluster's OIDC provider for one service account. */
export function webIdentityTrustPolicy(
  providerArn: string,
  serviceAccount?: { namespace: string; name: string },
): string {
  const issuer = providerArn.replace(/^arn:aws:iam::\d{12}:oidc-provider\//, '');
  const condition = serviceAccount
    ? {
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      }
    : {};
  return document([
    { Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity', ...condition },
  ]);
}
