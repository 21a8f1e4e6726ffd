/** ARNs of the `aws` partition, the only one Athenz parses. */

/** IAM names: roles, users, session names share this alphabet. */
export const IAM_NAME = /^[\w+=,.@-]+$/;

/** A role or user path: `/` or `/a/b/` (printable ASCII between slashes). */
export const IAM_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;

export interface RoleRef {
  account: string;
  path: string;
  name: string;
}

export function roleArn(account: string, path: string, name: string): string {
  return `arn:aws:iam::${account}:role${path}${name}`;
}

export function parseRoleArn(arn: string): RoleRef | undefined {
  const m = /^arn:aws:iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/.exec(arn);
  return m ? { account: m[1], path: m[2], name: m[3] } : undefined;
}

export function userArn(account: string, path: string, name: string): string {
  return `arn:aws:iam::${account}:user${path}${name}`;
}

export function rootArn(account: string): string {
  return `arn:aws:iam::${account}:root`;
}

export function assumedRoleArn(account: string, roleName: string, sessionName: string): string {
  return `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;
}

export function oidcProviderArn(account: string, issuerHostPath: string): string {
  return `arn:aws:iam::${account}:oidc-provider/${issuerHostPath}`;
}

export function instanceProfileArn(account: string, name: string): string {
  return `arn:aws:iam::${account}:instance-profile/${name}`;
}

export function accountOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts.length >= 6 && /^\d{12}$/.test(parts[4]) ? parts[4] : undefined;
}
