/**
 * DNS suffixes a provider may certify come from `sys.auth` launch assertions
 * on `sys.auth:dns.<suffix>`, for literal members of the assertion's role only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Assertion, DomainData, Policy, Role } from '@tessera/core/model';
import { providerDnsSuffixes } from '../src/provider-dns-suffixes.ts';

const PROVIDER = 'sys.auth.aws.us-west-2';

function sysAuth(policies: Policy[], roles: Role[]): DomainData {
  return {
    name: 'sys.auth',
    modified: '2026-01-01T00:00:00.000Z',
    roles,
    policies: { contents: { domain: 'sys.auth', policies } },
    services: [],
    entities: [],
    groups: [],
  } as DomainData;
}

const launch = (role: string, suffix: string, extra: Partial<Assertion> = {}): Assertion => ({ role: `sys.auth:role.${role}`, resource: `sys.auth:dns.${suffix}`, action: 'launch', ...extra });
const providers = (name: string, ...members: string[]): Role => ({ name: `sys.auth:role.${name}`, roleMembers: members.map((memberName) => ({ memberName })) });

test('no sys.auth domain: no suffix', () => {
  assert.deepEqual(providerDnsSuffixes(undefined, PROVIDER), []);
});

test('an ALLOW launch assertion on sys.auth:dns.<suffix> gives the suffix to the literal members of its role, once', () => {
  const data = sysAuth(
    [
      { name: 'sys.auth:policy.dns', assertions: [launch('aws', 'aws.example.com'), launch('aws', 'aws.example.com', { effect: 'ALLOW' }), launch('others', 'gcp.example.com')] },
      { name: 'sys.auth:policy.more', assertions: [launch('aws', 'ec2.example.net')] },
    ],
    [providers('aws', 'sys.auth.aws.*', PROVIDER), providers('others', 'sys.auth.gcp')],
  );
  assert.deepEqual(providerDnsSuffixes(data, PROVIDER).sort(), ['aws.example.com', 'ec2.example.net']);
  assert.deepEqual(providerDnsSuffixes(data, 'sys.auth.gcp'), ['gcp.example.com']);
  // A wildcard member does not match a provider by pattern.
  assert.deepEqual(providerDnsSuffixes(data, 'sys.auth.aws.eu-west-1'), []);
});

test('an inactive policy, a DENY, another action, another resource or a missing role gives nothing', () => {
  const role = providers('aws', PROVIDER);
  const only = (policy: Policy, roles: Role[] = [role]) => providerDnsSuffixes(sysAuth([policy], roles), PROVIDER);
  assert.deepEqual(only({ name: 'sys.auth:policy.off', active: false, assertions: [launch('aws', 'off.example.com')] }), [], 'inactive policy');
  assert.deepEqual(only({ name: 'sys.auth:policy.on', active: true, assertions: [launch('aws', 'on.example.com')] }), ['on.example.com'], 'active: true counts');
  assert.deepEqual(only({ name: 'sys.auth:policy.deny', assertions: [launch('aws', 'deny.example.com', { effect: 'DENY' })] }), [], 'DENY');
  assert.deepEqual(only({ name: 'sys.auth:policy.act', assertions: [launch('aws', 'act.example.com', { action: 'update' })] }), [], 'another action');
  assert.deepEqual(only({ name: 'sys.auth:policy.res', assertions: [{ role: 'sys.auth:role.aws', resource: 'sys.auth:hostname.example.com', action: 'launch' }] }), [], 'not a dns. resource');
  assert.deepEqual(only({ name: 'sys.auth:policy.norole', assertions: [launch('gone', 'gone.example.com')] }), [], 'role not in the domain');
  assert.deepEqual(only({ name: 'sys.auth:policy.empty', assertions: [launch('aws', 'empty.example.com')] }, [{ name: 'sys.auth:role.aws' }]), [], 'role without members');
});
