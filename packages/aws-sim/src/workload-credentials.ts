/**
 * Credentials that AWS hands to a workload on its role's behalf: ECS task
 * roles, EKS Pod Identity, EC2 instance profiles. AWS assumes the role as a
 * service principal, so the role must trust that service — checked here each
 * time new credentials are minted, exactly like a user's AssumeRole.
 */
import type { Clock } from './clock.ts';
import { accessDenied } from './aws-error.ts';
import type { CredentialStore } from './credentials.ts';
import type { RoleStore } from './iam-roles.ts';
import type { ConditionContext } from './policy-conditions.ts';
import type { RoleRecord, SessionRecord, SimState } from './state.ts';
import { trustAllows } from './trust-policy.ts';

/** Workload credentials live six hours, as ECS/EKS/EC2 hand them out. */
export const WORKLOAD_SESSION_SECONDS = 6 * 3600;
/** Hand out fresh credentials once the current ones have less than this left. */
const REFRESH_BEFORE_MS = 15 * 60_000;

export interface WorkloadGrant {
  /** Stable id of the task/pod/instance, so its credentials are reused until near expiry. */
  workload: string;
  role: RoleRecord;
  service: string;
  /** Actions the trust policy must allow (Pod Identity needs sts:TagSession too). */
  actions: string[];
  sessionName: string;
  context: ConditionContext;
}

export class WorkloadCredentials {
  constructor(
    private readonly state: SimState,
    private readonly roles: RoleStore,
    private readonly credentials: CredentialStore,
    private readonly clock: Clock,
    private readonly persist: () => void,
  ) {}

  vend(grant: WorkloadGrant): SessionRecord {
    const current = this.credentials.session(this.state.workloadSessions[grant.workload] ?? '');
    if (
      current &&
      current.roleArn === grant.role.arn &&
      Date.parse(current.expiration) - this.clock().getTime() > REFRESH_BEFORE_MS
    ) {
      return current;
    }
    const policy = this.roles.trustPolicy(grant.role);
    for (const action of grant.actions) {
      if (!trustAllows(policy, { kind: 'service', service: grant.service }, action, grant.context)) {
        throw accessDenied(
          `${grant.service} is not authorized to perform: ${action} on resource: ${grant.role.arn} (the role's trust policy must allow the service principal ${grant.service})`,
        );
      }
    }
    const session = this.credentials.issueSession(grant.role, grant.sessionName, WORKLOAD_SESSION_SECONDS, false);
    this.state.workloadSessions[grant.workload] = session.accessKeyId;
    this.persist();
    return session;
  }
}
