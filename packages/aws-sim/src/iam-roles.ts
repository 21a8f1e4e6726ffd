/**
 * IAM roles of every simulated account, with their trust policies. Names are
 * unique per account regardless of case, as in IAM.
 */
import type { Clock } from './clock.ts';
import { awsTimestamp } from './clock.ts';
import { AwsError, noSuchEntity, validationError } from './aws-error.ts';
import { IAM_NAME, IAM_PATH, parseRoleArn, roleArn } from './arn.ts';
import { isAccountId, newUniqueId } from './ids.ts';
import { parseTrustPolicy, type TrustPolicy } from './trust-policy.ts';
import type { RoleRecord, RoleTag, SimState } from './state.ts';

/** IAM's default quota on a trust policy's size. */
const MAX_TRUST_POLICY_CHARS = 2048;

export interface CreateRoleInput {
  account: string;
  roleName: string;
  path?: string;
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration?: number;
  tags?: RoleTag[];
}

const key = (account: string, name: string): string => `${account}/${name.toLowerCase()}`;

export class RoleStore {
  private readonly parsed = new Map<string, TrustPolicy>();

  constructor(
    private readonly state: SimState,
    private readonly clock: Clock,
    private readonly persist: () => void,
    /** IAM users count as principals too; the credential store knows them. */
    private readonly userExists: (account: string, userName: string) => boolean,
  ) {}

  create(input: CreateRoleInput): RoleRecord {
    if (!isAccountId(input.account)) throw validationError(`Account id must be 12 digits, got '${input.account}'`);
    validateRoleName(input.roleName);
    const path = input.path ?? '/';
    if (!IAM_PATH.test(path) || path.length > 512) {
      throw validationError(`Value '${path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`);
    }
    const maxSessionDuration = input.maxSessionDuration ?? 3600;
    validateMaxSession(maxSessionDuration);
    if (input.description !== undefined && input.description.length > 1000) {
      throw validationError(`Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000`);
    }
    if (this.find(input.account, input.roleName)) {
      throw new AwsError('EntityAlreadyExists', `Role with name ${input.roleName} already exists.`, 409);
    }
    this.checkPolicy(input.assumeRolePolicyDocument);
    const role: RoleRecord = {
      account: input.account,
      roleName: input.roleName,
      path,
      roleId: newUniqueId('AROA'),
      arn: roleArn(input.account, path, input.roleName),
      createDate: awsTimestamp(this.clock()),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      description: input.description,
      maxSessionDuration,
      tags: input.tags ?? [],
    };
    this.state.roles[key(role.account, role.roleName)] = role;
    this.persist();
    return role;
  }

  find(account: string, roleName: string): RoleRecord | undefined {
    return this.state.roles[key(account, roleName)];
  }

  get(account: string, roleName: string): RoleRecord {
    const role = this.find(account, roleName);
    if (!role) throw noSuchEntity(`The role with name ${roleName} cannot be found.`);
    return role;
  }

  /** The role an ARN names, path included; undefined if there is none. */
  byArn(arn: string): RoleRecord | undefined {
    const ref = parseRoleArn(arn);
    if (!ref) return undefined;
    const role = this.find(ref.account, ref.name);
    return role && role.path === ref.path ? role : undefined;
  }

  /** A launch names its role by ARN, or by name within the account. */
  resolve(account: string | undefined, roleOrArn: string): RoleRecord {
    if (roleOrArn.startsWith('arn:')) {
      const role = this.byArn(roleOrArn);
      if (!role) throw noSuchEntity(`The role ${roleOrArn} cannot be found.`);
      return role;
    }
    if (!account) throw validationError(`Role '${roleOrArn}' is not an ARN, so an account is needed`);
    return this.get(account, roleOrArn);
  }

  updateAssumeRolePolicy(account: string, roleName: string, document: string): void {
    const role = this.get(account, roleName);
    this.checkPolicy(document);
    role.assumeRolePolicyDocument = document;
    this.persist();
  }

  update(account: string, roleName: string, changes: { description?: string; maxSessionDuration?: number }): void {
    const role = this.get(account, roleName);
    if (changes.maxSessionDuration !== undefined) validateMaxSession(changes.maxSessionDuration);
    if (changes.description !== undefined) role.description = changes.description;
    if (changes.maxSessionDuration !== undefined) role.maxSessionDuration = changes.maxSessionDuration;
    this.persist();
  }

  delete(account: string, roleName: string): void {
    const role = this.get(account, roleName);
    delete this.state.roles[key(role.account, role.roleName)];
    this.persist();
  }

  list(account: string, pathPrefix = '/'): RoleRecord[] {
    return Object.values(this.state.roles)
      .filter((r) => r.account === account && r.path.startsWith(pathPrefix))
      .sort((a, b) => (a.roleName.toLowerCase() < b.roleName.toLowerCase() ? -1 : 1));
  }

  trustPolicy(role: RoleRecord): TrustPolicy {
    let policy = this.parsed.get(role.assumeRolePolicyDocument);
    if (!policy) {
      // Stored documents were validated on the way in; principals deleted since no longer matter.
      policy = parseTrustPolicy(role.assumeRolePolicyDocument);
      this.parsed.set(role.assumeRolePolicyDocument, policy);
    }
    return policy;
  }

  private checkPolicy(document: string): void {
    if (document.length > MAX_TRUST_POLICY_CHARS) {
      throw new AwsError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${MAX_TRUST_POLICY_CHARS}`, 409);
    }
    parseTrustPolicy(document, { principalExists: (arn) => this.principalExists(arn) });
  }

  private principalExists(arn: string): boolean {
    if (parseRoleArn(arn)) return this.byArn(arn) !== undefined;
    const user = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(arn);
    return user ? this.userExists(user[1], user[2]) : true;
  }
}

function validateRoleName(name: string): void {
  if (!IAM_NAME.test(name) || name.length > 64) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64`,
    );
  }
}

function validateMaxSession(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) {
    throw validationError(
      `1 validation error detected: Value '${seconds}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
    );
  }
}
