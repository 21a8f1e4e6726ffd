/**
 * Role trust policies (assume-role policy documents): validated when stored,
 * as IAM does, and evaluated for every AssumeRole*: a matching Deny wins, then
 * a matching Allow, otherwise the request is refused.
 */
import { malformedPolicy } from './aws-error.ts';
import { parseRoleArn, rootArn } from './arn.ts';
import { conditionHolds, parseConditions, type ConditionClause, type ConditionContext } from './policy-conditions.ts';

interface PrincipalSet {
  any: boolean;
  aws: string[];
  service: string[];
  federated: string[];
}

interface Statement {
  effect: 'Allow' | 'Deny';
  principal?: PrincipalSet;
  notPrincipal?: PrincipalSet;
  actions?: string[];
  notActions?: string[];
  conditions: ConditionClause[];
}

export interface TrustPolicy {
  statements: Statement[];
}

/** Who asks to assume the role. */
export type TrustCaller =
  | { kind: 'aws'; account: string; arns: string[] }
  | { kind: 'service'; service: string }
  | { kind: 'federated'; provider: string };

export interface TrustPolicyOptions {
  /** IAM refuses principals naming roles or users that do not exist. */
  principalExists?: (arn: string) => boolean;
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Condition']);
const FEDERATED_HOSTS = new Set(['accounts.google.com', 'graph.facebook.com', 'www.amazon.com', 'cognito-identity.amazonaws.com']);
const ASSUMED_ROLE_ARN = /^arn:aws:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+$/;
const USER_ARN = /^arn:aws:iam::\d{12}:user\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

function stringList(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    throw malformedPolicy(`Syntax errors in policy. ${what} must be a string or a list of strings.`);
  }
  return list as string[];
}

function invalidPrincipal(type: string, value: string): Error {
  return malformedPolicy(`Invalid principal in policy: "${type}":"${value}"`);
}

function parsePrincipal(value: unknown, opts: TrustPolicyOptions): PrincipalSet {
  const set: PrincipalSet = { any: false, aws: [], service: [], federated: [] };
  if (value === '*') return { ...set, any: true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformedPolicy('Syntax errors in policy. Principal must be "*" or an object.');
  }
  for (const [type, raw] of Object.entries(value)) {
    const list = stringList(raw, `Principal ${type}`);
    for (const p of list) {
      if (type === 'AWS') {
        if (p === '*') set.aws.push(p);
        else if (/^\d{12}$/.test(p)) set.aws.push(rootArn(p));
        else if (/^arn:aws:iam::\d{12}:root$/.test(p) || ASSUMED_ROLE_ARN.test(p)) set.aws.push(p);
        else if (parseRoleArn(p) || USER_ARN.test(p)) {
          if (opts.principalExists && !opts.principalExists(p)) throw invalidPrincipal(type, p);
          set.aws.push(p);
        } else throw invalidPrincipal(type, p);
      } else if (type === 'Service') {
        if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/.test(p)) throw invalidPrincipal(type, p);
        set.service.push(p);
      } else if (type === 'Federated') {
        if (!/^arn:aws:iam::\d{12}:(oidc-provider|saml-provider)\/\S+$/.test(p) && !FEDERATED_HOSTS.has(p)) {
          throw invalidPrincipal(type, p);
        }
        set.federated.push(p);
      } else {
        throw invalidPrincipal(type, list[0]);
      }
    }
  }
  if (set.aws.length + set.service.length + set.federated.length === 0) {
    throw malformedPolicy('Syntax errors in policy. Principal is empty.');
  }
  return set;
}

function parseActions(value: unknown): string[] {
  const list = stringList(value, 'Action');
  for (const a of list) {
    if (a !== '*' && !/^sts:[A-Za-z*?]+$/i.test(a)) {
      throw malformedPolicy('AssumeRole policy may only specify STS AssumeRole actions.');
    }
  }
  return list;
}

function parseStatement(raw: unknown, opts: TrustPolicyOptions): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw malformedPolicy('Syntax errors in policy. Statement must be an object.');
  }
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (key === 'Resource' || key === 'NotResource') throw malformedPolicy(`Has prohibited field ${key}`);
    if (!STATEMENT_KEYS.has(key)) throw malformedPolicy(`Syntax errors in policy. Unknown field ${key}.`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    throw malformedPolicy(`Invalid effect: ${typeof s.Effect === 'string' ? s.Effect : 'missing'}`);
  }
  if ((s.Principal === undefined) === (s.NotPrincipal === undefined)) {
    throw malformedPolicy('Missing required field Principal');
  }
  if ((s.Action === undefined) === (s.NotAction === undefined)) {
    throw malformedPolicy('Missing required field Action');
  }
  return {
    effect: s.Effect,
    principal: s.Principal === undefined ? undefined : parsePrincipal(s.Principal, opts),
    notPrincipal: s.NotPrincipal === undefined ? undefined : parsePrincipal(s.NotPrincipal, opts),
    actions: s.Action === undefined ? undefined : parseActions(s.Action),
    notActions: s.NotAction === undefined ? undefined : parseActions(s.NotAction),
    conditions: parseConditions(s.Condition),
  };
}

/** Parses and validates a trust policy; throws MalformedPolicyDocument with IAM's wording. */
export function parseTrustPolicy(text: string, opts: TrustPolicyOptions = {}): TrustPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformedPolicy('This policy contains invalid Json');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw malformedPolicy('This policy contains invalid Json');
  }
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) throw malformedPolicy(`Syntax errors in policy. Unknown field ${key}.`);
  }
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') {
    throw malformedPolicy('The policy must contain a valid version string');
  }
  const raw = Array.isArray(d.Statement) ? d.Statement : d.Statement === undefined ? [] : [d.Statement];
  if (raw.length === 0) throw malformedPolicy('Syntax errors in policy. Missing required field Statement.');
  return { statements: raw.map((s) => parseStatement(s, opts)) };
}

function principalMatches(p: PrincipalSet, caller: TrustCaller): boolean {
  if (p.any) return true;
  switch (caller.kind) {
    case 'aws': {
      const arns = caller.arns.map((a) => a.toLowerCase());
      return p.aws.some(
        (a) => a === '*' || a === rootArn(caller.account) || arns.includes(a.toLowerCase()),
      );
    }
    case 'service':
      return p.service.includes(caller.service);
    case 'federated':
      return p.federated.includes(caller.provider);
  }
}

function actionMatches(patterns: string[], action: string): boolean {
  return patterns.some((p) =>
    new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i').test(action),
  );
}

function applies(s: Statement, caller: TrustCaller, action: string, context: ConditionContext): boolean {
  const principalOk = s.principal ? principalMatches(s.principal, caller) : !principalMatches(s.notPrincipal!, caller);
  const actionOk = s.actions ? actionMatches(s.actions, action) : !actionMatches(s.notActions!, action);
  return principalOk && actionOk && s.conditions.every((c) => conditionHolds(c, context));
}

/** True when the policy lets `caller` perform `action` (e.g. sts:AssumeRole) in this context. */
export function trustAllows(policy: TrustPolicy, caller: TrustCaller, action: string, context: ConditionContext): boolean {
  const ctx: ConditionContext = {};
  for (const [k, v] of Object.entries(context)) ctx[k.toLowerCase()] = v;
  const matching = policy.statements.filter((s) => applies(s, caller, action, ctx));
  if (matching.some((s) => s.effect === 'Deny')) return false;
  return matching.some((s) => s.effect === 'Allow');
}
