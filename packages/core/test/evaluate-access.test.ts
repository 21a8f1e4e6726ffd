import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateAccess,
  isRoleMember,
  listPrincipalRoles,
  memberNameMatches,
  type AccessQuery,
  type AccessReason,
  type DomainLookup,
} from '../src/authz/evaluate-access.ts';
import type { Assertion, DomainData, Policy, Role, RoleMember } from '../src/model.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const PAST = '2026-05-01T00:00:00.000Z';
const FUTURE = '2027-01-01T00:00:00.000Z';

// --- fixture builders ------------------------------------------------------

type MemberSpec = string | RoleMember;

function role(domain: string, name: string, members: MemberSpec[] | null, trust?: string): Role {
  const r: Role = { name: `${domain}:role.${name}` };
  if (members) r.roleMembers = members.map((m) => (typeof m === 'string' ? { memberName: m } : m));
  if (trust) r.trust = trust;
  return r;
}

function policy(domain: string, name: string, assertions: Assertion[], active?: boolean): Policy {
  const p: Policy = { name: `${domain}:policy.${name}`, assertions };
  if (active !== undefined) p.active = active;
  return p;
}

const allow = (role: string, action: string, resource: string): Assertion => ({ role, action, resource, effect: 'ALLOW' });
const deny = (role: string, action: string, resource: string): Assertion => ({ role, action, resource, effect: 'DENY' });
// Effect omitted: Athenz defaults to ALLOW.
const implicit = (role: string, action: string, resource: string): Assertion => ({ role, action, resource });

function domain(name: string, roles: Role[], policies: Policy[], extra: Partial<DomainData> = {}): DomainData {
  return {
    name,
    modified: '2026-01-01T00:00:00.000Z',
    roles,
    policies: { contents: { domain: name, policies } },
    services: [],
    entities: [],
    groups: [],
    ...extra,
  };
}

/** The standard admin role and policy every domain is created with (§4). */
function adminParts(d: string, admins: string[]): { roles: Role[]; policies: Policy[] } {
  return {
    roles: [role(d, 'admin', admins)],
    policies: [policy(d, 'admin', [allow(`${d}:role.admin`, '*', `${d}:*`)])],
  };
}

function adminDomain(d: string, admins: string[]): DomainData {
  const { roles, policies } = adminParts(d, admins);
  return domain(d, roles, policies);
}

/** The aws_instance_launch_provider template of §6.2 applied with service=api. */
function launchTemplate(d: string, service: string): { roles: Role[]; policies: Policy[] } {
  return {
    roles: [role(d, 'aws_instance_launch_provider', ['athenz.aws.*']), role(d, 'aws.ssh_login', null)],
    policies: [
      policy(d, 'aws_instance_launch_provider', [
        allow(`${d}:role.aws_instance_launch_provider`, 'launch', `${d}:service.${service}`),
      ]),
      policy(d, 'aws.ssh_login', [allow(`${d}:role.aws.ssh_login`, 'ssh_login', `${d}:aws.${service}.*`)]),
    ],
  };
}

// --- the world the table runs against --------------------------------------

const sportsAdmin = adminParts('sports', ['user.admin']);
const sportsLaunch = launchTemplate('sports', 'api');

const sports = domain(
  'sports',
  [
    ...sportsAdmin.roles,
    ...sportsLaunch.roles,
    role('sports', 'readers', [
      'user.jane',
      { memberName: 'user.expired', expiration: PAST },
      { memberName: 'user.future', expiration: FUTURE },
      { memberName: 'user.now', expiration: NOW.toISOString() },
      { memberName: 'user.disabled', systemDisabled: 1 },
      { memberName: 'user.zero', systemDisabled: 0 },
      'User.Mixed',
    ]),
    role('sports', 'shadowed', [{ memberName: 'user.bob', expiration: PAST }, 'user.*']),
    role('sports', 'api-family', ['sports.api*']),
    role('sports', 'writers', ['user.writer']),
    role('sports', 'metachar', ['user.dot']),
    role('sports', 'groupies', ['sports:group.devs']),
    role('sports', 'delegated', null, 'partner'),
    role('sports', 'delegated2', [], 'partner'),
    role('sports', 'nodelegate', null, 'partner'),
    role('sports', 'to-closed', null, 'closed'),
  ],
  [
    ...sportsAdmin.policies,
    // A DENY listed before the ALLOW it overrides ...
    policy('sports', 'deny-first', [deny('sports:role.writers', 'delete', 'sports:doc.*')]),
    policy('sports', 'writers', [
      allow('sports:role.writers', 'write', 'sports:doc.*'),
      allow('sports:role.writers', 'delete', 'sports:doc.*'),
      // ... and one listed after it, in the same policy.
      deny('sports:role.writers', 'write', 'sports:doc.secret'),
    ]),
    policy('sports', 'lockdown', [deny('sports:role.admin', 'destroy', 'sports:vault')]),
    policy('sports', 'readers', [
      implicit('sports:role.readers', 'read', 'sports:article.*'),
      allow('sports:role.readers', 'get?', 'sports:file.?'),
      allow('sports:role.readers', 'peek', '*:stats'),
      { ...allow('Sports:Role.Readers', 'Fetch', 'Sports:Upper.*'), caseSensitive: true },
    ]),
    policy('sports', 'readers-v0', [allow('sports:role.readers', 'archive', 'sports:*'), deny('sports:role.readers', 'read', 'sports:article.*')], false),
    policy('sports', 'shadowed', [allow('sports:role.shadowed', 'read', 'sports:shadow')]),
    policy('sports', 'api-family', [allow('sports:role.api-family', 'call', 'sports:backend')]),
    policy('sports', 'metachar', [
      allow('sports:role.metachar', 'update', 'sports:data(1).[x]+{y}|z^$'),
      allow('sports:role.metachar', 'update', 'sports:a.b'),
    ]),
    policy('sports', 'any-role', [allow('sports:role.*', 'audit', 'sports:log')]),
    policy('sports', 'groupies', [allow('sports:role.groupies', 'party', 'sports:club')]),
    policy('sports', 'delegated', [
      allow('sports:role.delegated', 'deploy', 'sports:prod'),
      allow('sports:role.delegated2', 'stage', 'sports:staging'),
      allow('sports:role.nodelegate', 'retire', 'sports:old'),
      allow('sports:role.to-closed', 'close', 'sports:shop'),
    ]),
    ...sportsLaunch.policies,
  ],
);

const partnerAdmin = adminParts('partner', ['user.padmin']);
const partner = domain(
  'partner',
  [...partnerAdmin.roles, role('partner', 'deployers', ['user.pat', { memberName: 'user.gone', expiration: PAST }])],
  [
    ...partnerAdmin.policies,
    policy('partner', 'tenancy', [allow('partner:role.deploy*', 'ASSUME_ROLE', 'sports:role.delegated*')]),
    policy('partner', 'tenancy-v0', [allow('partner:role.deployers', 'assume_role', 'sports:role.nodelegate')], false),
  ],
);

const closedAdmin = adminParts('closed', ['user.cadmin']);
const closed = domain(
  'closed',
  closedAdmin.roles,
  [...closedAdmin.policies, policy('closed', 'tenancy', [allow('closed:role.admin', 'assume_role', 'sports:role.to-closed')])],
  { enabled: false },
);

const weather = adminDomain('weather', ['user.wadmin']);

const open = domain('open', [role('open', 'everyone', ['*'])], [policy('open', 'public', [allow('open:role.everyone', 'ping', 'open:public')])]);

const existingHome = adminDomain('user.settled', ['user.someone']);

const world = new Map([sports, partner, closed, weather, open, existingHome].map((d) => [d.name, d]));
const lookup: DomainLookup = (name) => world.get(name);

// --- the table -------------------------------------------------------------

interface Case {
  name: string;
  q: AccessQuery;
  want: AccessReason;
  domain?: string;
}

const q = (principal: string, action: string, resource: string, trustDomain?: string): AccessQuery =>
  trustDomain === undefined ? { principal, action, resource } : { principal, action, resource, trustDomain };

const cases: Case[] = [
  // exact and glob actions and resources
  { name: 'exact action, glob resource', q: q('user.jane', 'read', 'sports:article.news'), want: 'allowed' },
  { name: 'effect omitted means ALLOW', q: q('user.jane', 'read', 'sports:article.x'), want: 'allowed' },
  { name: 'glob resource "*" crosses dots', q: q('user.jane', 'read', 'sports:article.a.b.c'), want: 'allowed' },
  { name: 'glob resource needs its literal prefix', q: q('user.jane', 'read', 'sports:articles'), want: 'no-match' },
  { name: 'other action is not granted', q: q('user.jane', 'write', 'sports:article.news'), want: 'no-match' },
  { name: '"?" matches one character (action and resource)', q: q('user.jane', 'gets', 'sports:file.a'), want: 'allowed' },
  { name: '"?" does not match two characters', q: q('user.jane', 'gets', 'sports:file.ab'), want: 'no-match' },
  { name: '"?" does not match zero characters', q: q('user.jane', 'get', 'sports:file.a'), want: 'no-match' },
  { name: 'regex metacharacters taken literally', q: q('user.dot', 'update', 'sports:data(1).[x]+{y}|z^$'), want: 'allowed' },
  { name: 'metacharacters do not act as regex', q: q('user.dot', 'update', 'sports:data1.x+{y}|z'), want: 'no-match' },
  { name: '"." in a glob is a literal dot', q: q('user.dot', 'update', 'sports:aXb'), want: 'no-match' },
  { name: 'resource "*" as domain in assertion', q: q('user.jane', 'peek', 'sports:stats'), want: 'allowed' },

  // DENY
  { name: 'DENY in an earlier policy beats a later ALLOW', q: q('user.writer', 'delete', 'sports:doc.a'), want: 'denied-by-assertion' },
  { name: 'DENY after an ALLOW in the same policy wins', q: q('user.writer', 'write', 'sports:doc.secret'), want: 'denied-by-assertion' },
  { name: 'ALLOW applies where no DENY matches', q: q('user.writer', 'write', 'sports:doc.public'), want: 'allowed' },
  { name: 'DENY beats the admin policy', q: q('user.admin', 'destroy', 'sports:vault'), want: 'denied-by-assertion' },
  { name: 'DENY for another principal does not apply', q: q('user.jane', 'destroy', 'sports:vault'), want: 'no-match' },

  // policy versions
  { name: 'inactive policy does not allow', q: q('user.jane', 'archive', 'sports:article.a'), want: 'no-match' },
  { name: 'inactive policy does not deny', q: q('user.jane', 'read', 'sports:article.b'), want: 'allowed' },

  // member validity
  { name: 'expired member ignored', q: q('user.expired', 'read', 'sports:article.a'), want: 'no-match' },
  { name: 'future expiry is valid', q: q('user.future', 'read', 'sports:article.a'), want: 'allowed' },
  { name: 'expiry exactly now is still valid', q: q('user.now', 'read', 'sports:article.a'), want: 'allowed' },
  { name: 'systemDisabled member ignored', q: q('user.disabled', 'read', 'sports:article.a'), want: 'no-match' },
  { name: 'systemDisabled 0 is enabled', q: q('user.zero', 'read', 'sports:article.a'), want: 'allowed' },
  { name: 'non-member', q: q('user.stranger', 'read', 'sports:article.a'), want: 'no-match' },
  { name: 'first matching entry decides: expired exact before valid wildcard', q: q('user.bob', 'read', 'sports:shadow'), want: 'no-match' },
  { name: 'wildcard entry admits others', q: q('user.carol', 'read', 'sports:shadow'), want: 'allowed' },
  { name: '"*" member admits anyone', q: q('someone.else', 'ping', 'open:public'), want: 'allowed' },
  { name: '"sports.api*" admits sports.api', q: q('sports.api', 'call', 'sports:backend'), want: 'allowed' },
  { name: '"sports.api*" admits sports.api-v2', q: q('sports.api-v2', 'call', 'sports:backend'), want: 'allowed' },
  { name: '"sports.api*" rejects sports.apx', q: q('sports.apx', 'call', 'sports:backend'), want: 'no-match' },
  { name: 'group members grant nothing (no groups yet)', q: q('user.dev', 'party', 'sports:club'), want: 'no-match' },

  // role globs
  { name: 'role glob sports:role.* admits a reader', q: q('user.jane', 'audit', 'sports:log'), want: 'allowed' },
  { name: 'role glob sports:role.* admits the provider wildcard', q: q('athenz.aws.eu-west-1', 'audit', 'sports:log'), want: 'allowed' },
  { name: 'role glob needs some role with the principal', q: q('svc.nobody', 'audit', 'sports:log'), want: 'no-match' },

  // admin
  { name: 'admin may launch', q: q('user.admin', 'launch', 'sports:service.api'), want: 'allowed' },
  { name: 'admin may do anything in the domain', q: q('user.admin', 'update', 'sports:role.readers'), want: 'allowed' },
  { name: 'admin glob sports:* matches the bare domain resource', q: q('user.admin', 'delete', 'sports:'), want: 'allowed' },
  { name: 'admin of sports has nothing in weather', q: q('user.admin', 'update', 'weather:role.admin'), want: 'no-match' },
  { name: 'admin of weather has nothing in sports', q: q('user.wadmin', 'launch', 'sports:service.api'), want: 'no-match' },

  // the provider launch check of §7.5
  { name: 'provider launch: athenz.aws.us-west-2', q: q('athenz.aws.us-west-2', 'launch', 'sports:service.api'), want: 'allowed' },
  { name: 'provider launch with the UI trust domain', q: q('athenz.aws.us-west-2', 'launch', 'sports:service.api', 'sports'), want: 'allowed' },
  { name: 'provider launch: athenz.awsx.foo rejected', q: q('athenz.awsx.foo', 'launch', 'sports:service.api'), want: 'no-match' },
  { name: 'provider launch: athens.aws.us-east-1 rejected', q: q('athens.aws.us-east-1', 'launch', 'sports:service.api'), want: 'no-match' },
  { name: 'provider launch: other service not allowed', q: q('athenz.aws.us-west-2', 'launch', 'sports:service.web'), want: 'no-match' },
  { name: 'provider may not ssh_login', q: q('athenz.aws.us-west-2', 'ssh_login', 'sports:aws.api.host1'), want: 'no-match' },

  // delegated trust
  { name: 'trust: member of partner role is allowed', q: q('user.pat', 'deploy', 'sports:prod'), want: 'allowed' },
  { name: 'trust: non-member of partner role', q: q('user.jane', 'deploy', 'sports:prod'), want: 'no-match' },
  { name: 'trust: expired partner member', q: q('user.gone', 'deploy', 'sports:prod'), want: 'no-match' },
  { name: 'trust: matching trust domain', q: q('user.pat', 'deploy', 'sports:prod', 'partner'), want: 'allowed' },
  { name: 'trust: trust domain mismatch disables delegation', q: q('user.pat', 'deploy', 'sports:prod', 'elsewhere'), want: 'no-match' },
  { name: 'trust: empty member list falls through to delegation', q: q('user.pat', 'stage', 'sports:staging'), want: 'allowed' },
  { name: 'trust: inactive assume_role policy does not delegate', q: q('user.pat', 'retire', 'sports:old'), want: 'no-match' },
  { name: 'trust: disabled trusted domain does not delegate', q: q('user.cadmin', 'close', 'sports:shop'), want: 'no-match' },
  { name: 'assume_role with trust domain evaluates that domain', q: q('user.pat', 'assume_role', 'sports:role.delegated', 'partner'), want: 'allowed', domain: 'partner' },
  { name: 'assume_role with trust domain, non-member', q: q('user.jane', 'assume_role', 'sports:role.delegated', 'partner'), want: 'no-match', domain: 'partner' },
  { name: 'assume_role without trust domain uses the resource domain', q: q('user.pat', 'assume_role', 'sports:role.delegated'), want: 'no-match', domain: 'sports' },

  // domains
  { name: 'missing domain', q: q('user.jane', 'read', 'nosuch:thing'), want: 'domain-not-found', domain: 'nosuch' },
  { name: 'resource without a domain', q: q('user.jane', 'read', 'nodomain'), want: 'domain-not-found', domain: '' },
  { name: 'disabled domain', q: q('user.cadmin', 'read', 'closed:thing'), want: 'domain-disabled', domain: 'closed' },
  { name: 'assume_role into a missing trust domain', q: q('user.pat', 'assume_role', 'sports:role.delegated', 'nosuch'), want: 'domain-not-found', domain: 'nosuch' },

  // virtual home domain
  { name: 'virtual home domain: user may create it', q: q('user.newbie', 'create', 'user.newbie:domain'), want: 'allowed', domain: 'user.newbie' },
  { name: 'virtual home domain: any action of the owner', q: q('user.newbie', 'launch', 'user.newbie:service.x'), want: 'allowed' },
  { name: 'virtual home domain: another user gets 404', q: q('user.other', 'create', 'user.newbie:domain'), want: 'domain-not-found' },
  { name: 'virtual home domain: not for user.<a>.<b>', q: q('user.a.b', 'create', 'user.a.b:domain'), want: 'domain-not-found' },
  { name: 'existing home domain uses its own policies', q: q('user.settled', 'update', 'user.settled:meta'), want: 'no-match' },

  // case-insensitivity
  { name: 'query upper case', q: q('USER.JANE', 'READ', 'SPORTS:Article.News'), want: 'allowed' },
  { name: 'mixed-case member name', q: q('user.mixed', 'read', 'sports:article.a'), want: 'allowed' },
  { name: 'case-sensitive assertion still matches lower-cased', q: q('user.jane', 'fetch', 'sports:upper.thing'), want: 'allowed' },
  { name: 'trust domain compared case-insensitively', q: q('user.pat', 'deploy', 'sports:prod', 'PARTNER'), want: 'allowed' },
];

describe('evaluateAccess', () => {
  it('has a table of at least 45 cases', () => assert.ok(cases.length >= 45, `${cases.length} cases`));

  for (const c of cases) {
    it(c.name, () => {
      const r = evaluateAccess(c.q, lookup, NOW);
      assert.equal(r.reason, c.want, `${c.q.principal} ${c.q.action} ${c.q.resource} → ${r.reason}`);
      assert.equal(r.granted, c.want === 'allowed');
      if (c.domain !== undefined) assert.equal(r.domain, c.domain);
    });
  }

  it('names the deciding policy and assertion', () => {
    const allowed = evaluateAccess(q('athenz.aws.us-west-2', 'launch', 'sports:service.api'), lookup, NOW);
    assert.equal(allowed.policy, 'sports:policy.aws_instance_launch_provider');
    assert.equal(allowed.assertion?.action, 'launch');
    const denied = evaluateAccess(q('user.writer', 'delete', 'sports:doc.a'), lookup, NOW);
    assert.equal(denied.policy, 'sports:policy.deny-first');
    assert.equal(denied.assertion?.effect, 'DENY');
  });

  it('member expiry follows the clock passed in', () => {
    const before = new Date('2026-04-01T00:00:00.000Z');
    assert.equal(evaluateAccess(q('user.expired', 'read', 'sports:article.a'), lookup, before).granted, true);
    const later = new Date('2027-06-01T00:00:00.000Z');
    assert.equal(evaluateAccess(q('user.future', 'read', 'sports:article.a'), lookup, later).granted, false);
  });

  it('an unreadable expiration fails closed', () => {
    const d = domain('odd', [role('odd', 'r', [{ memberName: 'user.x', expiration: 'not a date' }])], [
      policy('odd', 'p', [allow('odd:role.r', 'go', 'odd:x')]),
    ]);
    assert.equal(evaluateAccess(q('user.x', 'go', 'odd:x'), (n) => (n === 'odd' ? d : undefined), NOW).granted, false);
  });
});

describe('isRoleMember', () => {
  const readers = sports.roles.find((r) => r.name === 'sports:role.readers')!;
  const delegated = sports.roles.find((r) => r.name === 'sports:role.delegated')!;

  it('direct member', () => assert.equal(isRoleMember(readers, 'user.jane', NOW, lookup), true));
  it('expired member', () => assert.equal(isRoleMember(readers, 'user.expired', NOW, lookup), false));
  it('delegated member', () => assert.equal(isRoleMember(delegated, 'user.pat', NOW, lookup), true));
  it('delegated non-member', () => assert.equal(isRoleMember(delegated, 'user.jane', NOW, lookup), false));
  it('delegation to a missing domain', () => {
    assert.equal(isRoleMember(role('sports', 'x', null, 'gone'), 'user.pat', NOW, lookup), false);
  });
  it('role without members or trust', () => assert.equal(isRoleMember(role('sports', 'x', null), 'user.pat', NOW, lookup), false));
});

describe('listPrincipalRoles', () => {
  it('lists direct, wildcard and delegated roles by short name', () => {
    assert.deepEqual(listPrincipalRoles(sports, 'user.pat', NOW, lookup), ['shadowed', 'delegated', 'delegated2']);
  });
  it('lists the provider role for a provider', () => {
    assert.deepEqual(listPrincipalRoles(sports, 'athenz.aws.us-west-2', NOW, lookup), ['aws_instance_launch_provider']);
  });
  it('lists nothing for an expired member outside wildcards', () => {
    assert.deepEqual(listPrincipalRoles(partner, 'user.gone', NOW, lookup), []);
  });
  it('lower-cases the principal', () => {
    assert.deepEqual(listPrincipalRoles(sports, 'USER.ADMIN', NOW, lookup), ['admin', 'shadowed']);
  });
});

describe('memberNameMatches', () => {
  const table: [string, string, boolean][] = [
    ['*', 'anything.at.all', true],
    ['athenz.aws.*', 'athenz.aws.us-west-2', true],
    ['athenz.aws.*', 'athenz.awsx.foo', false],
    ['athenz.aws.*', 'athens.aws.us-east-1', false],
    ['athenz.aws.*', 'athenz.aws', false],
    ['sports.api*', 'sports.api', true],
    ['sports.api*', 'sports.api-v2', true],
    ['sports.api*', 'sports.ap', false],
    ['user.jane', 'user.jane', true],
    ['user.jane', 'user.janet', false],
  ];
  for (const [member, principal, want] of table) {
    it(`${member} vs ${principal} → ${want}`, () => assert.equal(memberNameMatches(member, principal), want));
  }
});
