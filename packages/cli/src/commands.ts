/** The zms-cli commands, named and shaped as in Athenz's zms-cli. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ybase64Encode } from '@tessera/core/ybase64';
import type { Printer } from './output.ts';
import type { Zms } from './zms.ts';
import { seg } from './zms.ts';
import { assertionText, memberName, parseAssertion } from './names.ts';

export interface CommandContext {
  zms: Zms;
  out: Printer;
  /** The -d domain, or an error telling the user to give one. */
  domain(): string;
  /** The user zms-cli logs in as (added to the admins of new domains), unless a client certificate is used. */
  self?: string;
}

interface Role { name: string; trust?: string; roleMembers?: { memberName: string; expiration?: string }[]; auditLog?: { member: string; admin: string; created: string; action: string }[] }
interface Policy { name: string; assertions: { id?: number; effect?: string; action: string; role: string; resource: string }[] }
interface Service { name: string; modified?: string; description?: string; publicKeys?: { id: string; key: string }[]; providerEndpoint?: string }

const short = (full: string) => full.slice(full.indexOf('.', full.indexOf(':')) + 1);

function roleView(r: Role, withLog = false) {
  return [{
    name: short(r.name),
    ...(r.trust ? { trust: r.trust } : {}),
    members: (r.roleMembers ?? []).map((m) => ({ name: m.memberName, ...(m.expiration ? { expiration: m.expiration } : {}) })),
    ...(withLog ? { changes: (r.auditLog ?? []).map((l) => ({ [l.action.toLowerCase()]: l.member, by: l.admin, at: l.created })) } : {}),
  }];
}

function serviceView(s: Service) {
  return [{ name: s.name, description: s.description, modified: s.modified, providerEndpoint: s.providerEndpoint, publicKeys: (s.publicKeys ?? []).map((k) => ({ keyId: k.id, value: k.key })) }];
}

function policyView(domain: string, p: Policy) {
  return [{ name: short(p.name), assertions: p.assertions.map((a) => assertionText(domain, a)) }];
}

async function exists(zms: Zms, path: string): Promise<boolean> {
  try {
    await zms('GET', path);
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

/** Adds every command to the program; `run` wraps each action with authentication, output and errors. */
export function addCommands(program: Command, run: (action: (c: CommandContext) => Promise<void>) => () => Promise<void>): void {
  const cmd = (spec: string, description: string, action: (c: CommandContext, args: string[]) => Promise<void>) =>
    program
      .command(spec)
      .description(description)
      .action(function (this: Command) {
        return run((c) => action(c, this.args))();
      });

  // ---- domains
  cmd('add-domain <domain> [admins...]', 'create a top-level domain, a sub-domain (dotted name) or a user domain (user.<name>)', async (c, [name, ...admins]) => {
    const adminUsers = [...new Set([...admins.map(memberName), ...(c.self ? [c.self] : [])])];
    const dot = name.lastIndexOf('.');
    if (dot < 0) {
      await c.zms('POST', '/domain', { name, adminUsers });
      return c.out.message(`domain created: ${name}`);
    }
    const parent = name.slice(0, dot);
    const leaf = name.slice(dot + 1);
    if (parent === 'user') {
      await c.zms('POST', `/userdomain/${seg(leaf)}`, { name: leaf });
      return c.out.message(`domain created: ${name}`);
    }
    await c.zms('POST', `/subdomain/${seg(parent)}`, { name: leaf, parent, adminUsers });
    c.out.message(`subdomain created: ${name}`);
  });

  cmd('delete-domain <domain>', 'delete a domain (it must have no sub-domains)', async (c, [name]) => {
    const dot = name.lastIndexOf('.');
    if (dot < 0) await c.zms('DELETE', `/domain/${seg(name)}`);
    else if (name.slice(0, dot) === 'user') await c.zms('DELETE', `/userdomain/${seg(name.slice(dot + 1))}`);
    else await c.zms('DELETE', `/subdomain/${seg(name.slice(0, dot))}/${seg(name.slice(dot + 1))}`);
    c.out.message(`Deleted domain ${name}`);
  });

  cmd('list-domain [prefix]', 'list domains, optionally those starting with a prefix', async (c, [prefix]) => {
    const list = await c.zms<{ names: string[] }>('GET', `/domain${prefix ? `?prefix=${seg(prefix)}` : ''}`);
    c.out.object('domains', list.names);
  });

  cmd('show-domain [domain]', 'show a domain: attributes, roles, policies, services', async (c, [name]) => {
    const d = name ?? c.domain();
    const domain = await c.zms<Record<string, unknown>>('GET', `/domain/${seg(d)}`);
    const [roles, policies, services] = await Promise.all([
      c.zms<{ names: string[] }>('GET', `/domain/${seg(d)}/role`),
      c.zms<{ names: string[] }>('GET', `/domain/${seg(d)}/policy`),
      c.zms<{ names: string[] }>('GET', `/domain/${seg(d)}/service`),
    ]);
    const { account, ...rest } = domain;
    c.out.object('domain', { ...rest, aws_account: account, roles: roles.names, policies: policies.names, services: services.names });
  });

  cmd('set-aws-account <account-ids> [account-name]', 'register the AWS account id(s) of the domain (comma separated)', async (c, [account, accountName]) => {
    const d = c.domain();
    await c.zms('PUT', `/domain/${seg(d)}/meta/system/account`, { account, awsAccountName: accountName ?? '' });
    c.out.message(`domain ${d} account successfully updated`);
  });
  program.commands.at(-1)!.alias('set-domain-account');

  // ---- services
  cmd('add-service <service> [key-id] [key-file]', 'add a service, optionally with a public key (PEM file)', async (c, [service, keyId, keyFile]) => {
    const d = c.domain();
    if (keyId && !keyFile) throw new Error('add-service: give both a key id and a key file, or neither');
    if (await exists(c.zms, `/domain/${seg(d)}/service/${seg(service)}`)) {
      throw new Error(`service identity already exists: ${d}.${service} - use add-public-key to add a key`);
    }
    const publicKeys = keyFile ? [{ id: keyId, key: ybase64Encode(readKey(keyFile)) }] : [];
    await c.zms('PUT', `/domain/${seg(d)}/service/${seg(service)}`, { name: `${d}.${service}`, publicKeys });
    c.out.object('service', serviceView(await c.zms<Service>('GET', `/domain/${seg(d)}/service/${seg(service)}`)));
  });

  cmd('show-service <service>', 'show a service and its public keys', async (c, [service]) => {
    const d = c.domain();
    c.out.object('service', serviceView(await c.zms<Service>('GET', `/domain/${seg(d)}/service/${seg(service)}`)));
  });

  cmd('list-service', 'list the services of the domain', async (c) => {
    c.out.object('services', (await c.zms<{ names: string[] }>('GET', `/domain/${seg(c.domain())}/service`)).names);
  });

  cmd('delete-service <service>', 'delete a service', async (c, [service]) => {
    const d = c.domain();
    await c.zms('DELETE', `/domain/${seg(d)}/service/${seg(service)}`);
    c.out.message(`Deleted service identity: ${d}.${service}`);
  });

  // ---- templates
  cmd('set-domain-template <templates...>', 'apply templates, with parameters as key=value (e.g. service=api)', async (c, args) => {
    const d = c.domain();
    const templateNames = args.filter((a) => !a.includes('='));
    const params = args.filter((a) => a.includes('=')).map((a) => ({ name: a.slice(0, a.indexOf('=')), value: a.slice(a.indexOf('=') + 1) }));
    // ZMS (like Athenz) applies a template with a missing parameter as written: refuse that here instead.
    for (const name of templateNames) {
      const { metadata } = await c.zms<{ metadata?: { keywordsToReplace?: string } }>('GET', `/template/${seg(name)}`);
      for (const keyword of (metadata?.keywordsToReplace ?? '').split(',').filter(Boolean)) {
        const needed = keyword.replace(/^_|_$/g, '');
        if (!params.some((p) => p.name === needed)) throw new Error(`Template ${name} needs parameter "${needed}" (for example ${needed}=api)`);
      }
    }
    await c.zms('PUT', `/domain/${seg(d)}/template`, { templateNames, params });
    c.out.message('Template(s) successfully applied to domain');
  });

  cmd('list-domain-template', 'list the templates applied to the domain', async (c) => {
    c.out.object('templates', (await c.zms<{ templateNames: string[] }>('GET', `/domain/${seg(c.domain())}/template`)).templateNames);
  });

  cmd('list-server-template', 'list the templates the server offers', async (c) => {
    c.out.object('templates', (await c.zms<{ templateNames: string[] }>('GET', '/template')).templateNames);
  });

  // ---- roles
  cmd('add-regular-role <role> [members...]', 'create a role with members', async (c, [role, ...members]) => {
    const d = c.domain();
    if (role === 'admin') throw new Error("cannot replace reserved 'admin' role");
    if (await exists(c.zms, `/domain/${seg(d)}/role/${seg(role)}`)) throw new Error(`role already exists: ${d}:role.${role}`);
    await c.zms('PUT', `/domain/${seg(d)}/role/${seg(role)}`, { name: `${d}:role.${role}`, roleMembers: members.map((m) => ({ memberName: memberName(m) })) });
    c.out.object('role', roleView(await c.zms<Role>('GET', `/domain/${seg(d)}/role/${seg(role)}`)));
  });
  program.commands.at(-1)!.alias('add-group-role');

  cmd('add-member <role> <members...>', 'add members to a role', async (c, [role, ...members]) => {
    const d = c.domain();
    const names = members.map(memberName);
    for (const m of names) await c.zms('PUT', `/domain/${seg(d)}/role/${seg(role)}/member/${seg(m)}`, { memberName: m, roleName: role });
    c.out.message(`Added to ${role}: ${names.join(',')}`);
  });

  cmd('delete-member <role> <members...>', 'remove members from a role', async (c, [role, ...members]) => {
    const d = c.domain();
    const names = members.map(memberName);
    for (const m of names) await c.zms('DELETE', `/domain/${seg(d)}/role/${seg(role)}/member/${seg(m)}`);
    c.out.message(`Deleted from ${role}: ${names.join(',')}`);
  });

  cmd('show-role <role> [log]', 'show a role and its members ("log" adds the membership changes)', async (c, [role, log]) => {
    const d = c.domain();
    const r = await c.zms<Role>('GET', `/domain/${seg(d)}/role/${seg(role)}${log === 'log' ? '?auditLog=true' : ''}`);
    c.out.object('role', roleView(r, log === 'log'));
  });

  // ---- policies
  cmd('add-policy <policy> [assertion...]', 'create a policy, optionally with one assertion: grant|deny <action> to <role> on <resource>', async (c, [policy, ...words]) => {
    const d = c.domain();
    if (await exists(c.zms, `/domain/${seg(d)}/policy/${seg(policy)}`)) throw new Error(`policy already exists: ${d}:policy.${policy}`);
    const assertions = words.length ? [parseAssertion(d, words)] : [];
    await c.zms('PUT', `/domain/${seg(d)}/policy/${seg(policy)}`, { name: `${d}:policy.${policy}`, assertions });
    c.out.object('policy', policyView(d, await c.zms<Policy>('GET', `/domain/${seg(d)}/policy/${seg(policy)}`)));
  });

  cmd('add-assertion <policy> <assertion...>', 'add an assertion: grant|deny <action> to <role> on <resource>', async (c, [policy, ...words]) => {
    const d = c.domain();
    const assertion = parseAssertion(d, words);
    await c.zms('PUT', `/domain/${seg(d)}/policy/${seg(policy)}/assertion`, assertion);
    c.out.object('policy', policyView(d, await c.zms<Policy>('GET', `/domain/${seg(d)}/policy/${seg(policy)}`)));
  });

  cmd('delete-assertion <policy> <assertion...>', 'delete an assertion: grant|deny <action> to <role> on <resource>', async (c, [policy, ...words]) => {
    const d = c.domain();
    const wanted = parseAssertion(d, words);
    const p = await c.zms<Policy>('GET', `/domain/${seg(d)}/policy/${seg(policy)}`);
    const found = p.assertions.find((a) => (a.effect ?? 'ALLOW') === wanted.effect && a.action === wanted.action.toLowerCase() && a.role === wanted.role.toLowerCase() && a.resource === wanted.resource.toLowerCase());
    if (!found?.id) throw new Error(`policy ${d}:policy.${policy} has no assertion "${words.join(' ')}"`);
    await c.zms('DELETE', `/domain/${seg(d)}/policy/${seg(policy)}/assertion/${found.id}`);
    c.out.object('policy', policyView(d, await c.zms<Policy>('GET', `/domain/${seg(d)}/policy/${seg(policy)}`)));
  });

  cmd('show-policy <policy>', 'show a policy and its assertions', async (c, [policy]) => {
    const d = c.domain();
    c.out.object('policy', policyView(d, await c.zms<Policy>('GET', `/domain/${seg(d)}/policy/${seg(policy)}`)));
  });

  // ---- access
  cmd('check-access <action> <resource> [principal]', 'may the principal (default: you) perform the action on the resource?', async (c, [action, resource, principal]) => {
    const q = principal ? `?principal=${seg(memberName(principal))}` : '';
    const r = await c.zms<{ granted: boolean }>('GET', `/access/${seg(action)}/${seg(resource)}${q}`);
    c.out.object('access', r.granted ? 'granted' : 'denied');
  });
  program.commands.at(-1)!.alias('show-access');
}

function readKey(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read key file ${path}: ${(e as Error).message}`);
  }
  if (!text.includes('-----BEGIN')) throw new Error(`${path} is not a PEM public key`);
  return text;
}
