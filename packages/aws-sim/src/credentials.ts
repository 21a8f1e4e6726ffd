/**
 * Access keys and the identities behind them: long-term keys of an account
 * root or IAM user, and temporary role-session credentials that expire.
 */
import type { Clock } from './clock.ts';
import { awsTimestamp } from './clock.ts';
import { AwsError, validationError } from './aws-error.ts';
import { assumedRoleArn, IAM_NAME, rootArn, userArn } from './arn.ts';
import { isAccountId, newAccessKeyId, newSecretAccessKey, newSessionToken, newUniqueId } from './ids.ts';
import type { AccessKeyRecord, RoleRecord, SessionRecord, SimState, UserRecord } from './state.ts';

export type Principal =
  | { kind: 'root'; account: string; arn: string; userId: string }
  | { kind: 'user'; account: string; arn: string; userId: string; userName: string }
  | {
      kind: 'assumed-role';
      account: string;
      arn: string;
      userId: string;
      roleArn: string;
      roleName: string;
      sessionName: string;
    };

/** What a request's access key resolves to. */
export interface KeyLookup {
  secretAccessKey: string;
  /** Set for temporary credentials; the request must carry the same token. */
  sessionToken?: string;
  expiration?: Date;
  principal: Principal;
}

export interface IssuedKey {
  accessKeyId: string;
  secretAccessKey: string;
  account: string;
  arn: string;
}

/** Sessions that expired longer ago than this are forgotten (their keys then read as unknown). */
const FORGET_AFTER_MS = 24 * 3600_000;

export class CredentialStore {
  constructor(
    private readonly state: SimState,
    private readonly clock: Clock,
    private readonly persist: () => void,
  ) {}

  /** A new long-term key for the account root, or for an IAM user (created if new). */
  createAccessKey(account: string, userName?: string): IssuedKey {
    if (!isAccountId(account)) throw validationError(`Account id must be 12 digits, got '${account}'`);
    let arn = rootArn(account);
    if (userName !== undefined) {
      if (!IAM_NAME.test(userName) || userName.length > 64) throw validationError(`Invalid user name '${userName}'`);
      arn = this.ensureUser(account, userName).arn;
    }
    const key: AccessKeyRecord = {
      accessKeyId: newAccessKeyId('long-term'),
      secretAccessKey: newSecretAccessKey(),
      account,
      userName,
      createDate: awsTimestamp(this.clock()),
    };
    this.state.accessKeys[key.accessKeyId] = key;
    this.persist();
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, account, arn };
  }

  /** The account root's first key, created on first use (stable across restarts with a state file). */
  rootKey(account: string): IssuedKey {
    const existing = Object.values(this.state.accessKeys).find((k) => k.account === account && k.userName === undefined);
    if (existing) {
      return { accessKeyId: existing.accessKeyId, secretAccessKey: existing.secretAccessKey, account, arn: rootArn(account) };
    }
    return this.createAccessKey(account);
  }

  userExists(account: string, userName: string): boolean {
    return `${account}/${userName.toLowerCase()}` in this.state.users;
  }

  private ensureUser(account: string, userName: string): UserRecord {
    const id = `${account}/${userName.toLowerCase()}`;
    this.state.users[id] ??= {
      account,
      userName,
      userId: newUniqueId('AIDA'),
      arn: userArn(account, '/', userName),
      createDate: awsTimestamp(this.clock()),
    };
    return this.state.users[id];
  }

  issueSession(role: RoleRecord, sessionName: string, durationSeconds: number, chained: boolean): SessionRecord {
    const now = this.clock();
    const session: SessionRecord = {
      accessKeyId: newAccessKeyId('temporary'),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: newSessionToken(),
      account: role.account,
      roleArn: role.arn,
      roleName: role.roleName,
      roleId: role.roleId,
      sessionName,
      issued: awsTimestamp(now),
      expiration: awsTimestamp(new Date(now.getTime() + durationSeconds * 1000)),
      chained,
    };
    this.forgetOldSessions(now);
    this.state.sessions[session.accessKeyId] = session;
    this.persist();
    return session;
  }

  session(accessKeyId: string): SessionRecord | undefined {
    return this.state.sessions[accessKeyId];
  }

  lookup(accessKeyId: string): KeyLookup | undefined {
    const key = this.state.accessKeys[accessKeyId];
    if (key) {
      if (key.userName === undefined) {
        return { secretAccessKey: key.secretAccessKey, principal: { kind: 'root', account: key.account, arn: rootArn(key.account), userId: key.account } };
      }
      const user = this.ensureUser(key.account, key.userName);
      return {
        secretAccessKey: key.secretAccessKey,
        principal: { kind: 'user', account: key.account, arn: user.arn, userId: user.userId, userName: user.userName },
      };
    }
    const s = this.state.sessions[accessKeyId];
    if (!s) return undefined;
    return {
      secretAccessKey: s.secretAccessKey,
      sessionToken: s.sessionToken,
      expiration: new Date(s.expiration),
      principal: {
        kind: 'assumed-role',
        account: s.account,
        arn: assumedRoleArn(s.account, s.roleName, s.sessionName),
        userId: `${s.roleId}:${s.sessionName}`,
        roleArn: s.roleArn,
        roleName: s.roleName,
        sessionName: s.sessionName,
      },
    };
  }

  private forgetOldSessions(now: Date): void {
    for (const [id, s] of Object.entries(this.state.sessions)) {
      if (Date.parse(s.expiration) + FORGET_AFTER_MS < now.getTime()) delete this.state.sessions[id];
    }
  }
}

/** The error STS/IAM return for a key they do not know. */
export const invalidClientTokenId = (): AwsError =>
  new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
