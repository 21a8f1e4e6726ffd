/**
 * EC2 instances, each with its own IMDS listener on loopback (the SDK keeps
 * only the host and port of AWS_EC2_METADATA_SERVICE_ENDPOINT, so instances
 * cannot share one address). IMDSv2 session tokens are required unless the
 * instance was launched with `httpTokens: 'optional'`.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { awsTimestamp } from './clock.ts';
import { isAwsError, validationError } from './aws-error.ts';
import { accountOfArn, instanceProfileArn } from './arn.ts';
import { clientEnv } from './client-env.ts';
import type { DocumentSigner } from './identity-document.ts';
import { identityDocument } from './identity-document.ts';
import { isAccountId, isRegion, newHexId, newUniqueId } from './ids.ts';
import { checkLaunchOptions, matching } from './launch-options.ts';
import type { SimContext } from './sim-context.ts';
import type { InstanceRecord } from './state.ts';

const MAX_TOKEN_TTL = 21600;

export interface Ec2InstanceOptions {
  /** The instance profile's role, by ARN or by name in `account`. */
  role: string;
  account?: string;
  region?: string;
  /** Defaults to the role name, as the console names instance profiles. */
  instanceProfileName?: string;
  instanceType?: string;
  imageId?: string;
  availabilityZone?: string;
  privateIp?: string;
  /** Instance tags readable at `meta-data/tags/instance/` (e.g. `athenz-domain`). */
  tags?: Record<string, string>;
  /** `required` (IMDSv2 only, the default) or `optional` (IMDSv1 allowed). */
  httpTokens?: 'required' | 'optional';
}

export interface Ec2Instance {
  instanceId: string;
  account: string;
  region: string;
  availabilityZone: string;
  roleArn: string;
  instanceProfileArn: string;
  privateIp: string;
  imdsUrl: string;
  /** The identity document exactly as IMDS serves it. */
  document: string;
  /** Its PKCS#7 signature as IMDS serves `…/pkcs7` (base64, no PEM armour). */
  pkcs7: string;
  env: Record<string, string>;
}

interface Running {
  app: FastifyInstance;
  url: string;
  tokens: Map<string, number>;
}

const text = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).header('content-type', 'text/plain').send(body);

export class Ec2Instances {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly ctx: SimContext,
    private readonly signer: DocumentSigner,
  ) {}

  async launch(opts: Ec2InstanceOptions): Promise<Ec2Instance> {
    checkLaunchOptions(opts, ['role', 'account', 'region', 'instanceProfileName', 'instanceType', 'imageId', 'availabilityZone', 'privateIp', 'httpTokens']);
    if (!opts.role) throw validationError('role is required');
    const account = opts.account ?? accountOfArn(opts.role);
    if (!isAccountId(account)) throw validationError('account must be 12 digits (or give role as an ARN)');
    const region = opts.region ?? this.ctx.defaultRegion;
    if (!isRegion(region)) throw validationError(`Invalid region '${region}'`);
    const role = this.ctx.roles.resolve(account, opts.role);
    const privateIp =
      matching('privateIp', opts.privateIp, /^\d{1,3}(\.\d{1,3}){3}$/) ??
      `10.0.${1 + (randomBytes(1)[0] % 254)}.${1 + (randomBytes(1)[0] % 254)}`;
    const httpTokens = opts.httpTokens ?? 'required';
    if (httpTokens !== 'required' && httpTokens !== 'optional') throw validationError(`httpTokens must be 'required' or 'optional'`);
    const tags = opts.tags ?? {};
    if (typeof tags !== 'object' || Array.isArray(tags) || Object.entries(tags).some(([k, v]) => typeof v !== 'string' || !/^[\w.:+=@/ -]{1,128}$/.test(k))) {
      throw validationError('tags must map tag names to strings');
    }
    const instanceProfileName = matching('instanceProfileName', opts.instanceProfileName, /^[\w+=,.@-]{1,128}$/);
    const now = this.ctx.clock();
    const instanceId = `i-${newHexId(17)}`;
    const fields = {
      accountId: account,
      architecture: 'x86_64',
      availabilityZone: matching('availabilityZone', opts.availabilityZone, /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/) ?? `${region}a`,
      imageId: matching('imageId', opts.imageId, /^ami-[0-9a-f]{8,17}$/) ?? `ami-${newHexId(17)}`,
      instanceId,
      instanceType: matching('instanceType', opts.instanceType, /^[a-z0-9-]+\.[a-z0-9-]+$/) ?? 't3.micro',
      pendingTime: awsTimestamp(now),
      privateIp,
      region,
    };
    const document = identityDocument(fields);
    const instance: InstanceRecord = {
      instanceId,
      account,
      region,
      availabilityZone: fields.availabilityZone,
      instanceType: fields.instanceType,
      imageId: fields.imageId,
      privateIp,
      roleArn: role.arn,
      instanceProfileName: instanceProfileName ?? role.roleName,
      instanceProfileId: newUniqueId('AIPA'),
      tags: { ...tags },
      httpTokens,
      document,
      pkcs7: this.signer.pkcs7(document, now),
      signature: this.signer.signature(document),
      launched: awsTimestamp(now),
    };
    // Fail the launch, rather than every later credentials read, if the role does not trust ec2.amazonaws.com.
    this.credentials(instance);
    this.ctx.state.instances[instanceId] = instance;
    await this.start(instance);
    this.ctx.persist();
    return this.describe(instance);
  }

  describe(i: InstanceRecord): Ec2Instance {
    const url = this.running.get(i.instanceId)?.url ?? '';
    return {
      instanceId: i.instanceId,
      account: i.account,
      region: i.region,
      availabilityZone: i.availabilityZone,
      roleArn: i.roleArn,
      instanceProfileArn: instanceProfileArn(i.account, i.instanceProfileName),
      privateIp: i.privateIp,
      imdsUrl: url,
      document: i.document,
      pkcs7: i.pkcs7,
      env: clientEnv(this.ctx.url(), i.region, url),
    };
  }

  /** Starts IMDS for instances loaded from a state file, on their old port when it is free. */
  async restore(): Promise<void> {
    for (const i of Object.values(this.ctx.state.instances)) await this.start(i);
    this.ctx.persist();
  }

  async terminate(instanceId: string): Promise<void> {
    const r = this.running.get(instanceId);
    this.running.delete(instanceId);
    delete this.ctx.state.instances[instanceId];
    this.ctx.persist();
    await r?.app.close();
  }

  async close(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((r) => r.app.close()));
  }

  private credentials(i: InstanceRecord): Record<string, string> {
    const role = this.ctx.roles.resolve(undefined, i.roleArn);
    const s = this.ctx.workloads.vend({
      workload: `ec2:${i.instanceId}`,
      role,
      service: 'ec2.amazonaws.com',
      actions: ['sts:AssumeRole'],
      sessionName: i.instanceId,
      context: {
        'aws:SourceAccount': i.account,
        'aws:SourceArn': `arn:aws:ec2:${i.region}:${i.account}:instance/${i.instanceId}`,
      },
    });
    return {
      Code: 'Success',
      LastUpdated: s.issued,
      Type: 'AWS-HMAC',
      AccessKeyId: s.accessKeyId,
      SecretAccessKey: s.secretAccessKey,
      Token: s.sessionToken,
      Expiration: s.expiration,
    };
  }

  private async start(i: InstanceRecord): Promise<void> {
    const app = Fastify({ logger: false });
    const tokens = new Map<string, number>();
    app.addHook('onSend', async (_req, reply) => {
      reply.header('date', this.ctx.clock().toUTCString());
    });
    app.put('/latest/api/token', async (req, reply) => this.issueToken(req, reply, tokens));
    app.get('/*', async (req, reply) => this.read(i, req, reply, tokens));
    app.setErrorHandler((err: Error, _req, reply) => {
      this.ctx.log(`aws-sim IMDS: ${err.message}`);
      return text(reply, 500, 'Internal Server Error');
    });
    let address: string;
    try {
      address = await app.listen({ host: this.ctx.host, port: i.imdsPort ?? 0 });
    } catch {
      address = await app.listen({ host: this.ctx.host, port: 0 });
    }
    i.imdsPort = Number(new URL(address).port);
    this.running.set(i.instanceId, { app, url: address, tokens });
  }

  private issueToken(req: FastifyRequest, reply: FastifyReply, tokens: Map<string, number>) {
    // IMDS refuses token requests that came through a proxy.
    if (req.headers['x-forwarded-for'] !== undefined) return text(reply, 403, 'Forbidden');
    const ttlHeader = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
    const ttl = typeof ttlHeader === 'string' && /^\d{1,6}$/.test(ttlHeader) ? Number(ttlHeader) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL)) return text(reply, 400, 'Bad Request');
    const token = randomBytes(42).toString('base64');
    tokens.set(token, this.ctx.clock().getTime() + ttl * 1000);
    return reply.header('x-aws-ec2-metadata-token-ttl-seconds', String(ttl)).header('content-type', 'text/plain').send(token);
  }

  private read(i: InstanceRecord, req: FastifyRequest, reply: FastifyReply, tokens: Map<string, number>) {
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (token !== undefined) {
      const expires = typeof token === 'string' ? tokens.get(token) : undefined;
      if (expires === undefined || expires <= this.ctx.clock().getTime()) return text(reply, 401, 'Unauthorized');
    } else if (i.httpTokens === 'required') {
      return text(reply, 401, 'Unauthorized');
    }
    const path = new URL(req.url, 'http://imds').pathname;
    let body: string | undefined;
    try {
      body = this.lookup(i, path);
    } catch (e) {
      if (!isAwsError(e)) throw e;
      return text(reply, 404, 'Not Found');
    }
    if (body === undefined) return text(reply, 404, 'Not Found');
    return text(reply, 200, body);
  }

  /** The value at an IMDS path; directories list their children, one per line. */
  private lookup(i: InstanceRecord, path: string): string | undefined {
    const role = i.roleArn.slice(i.roleArn.lastIndexOf('/') + 1);
    const hostname = `ip-${i.privateIp.replace(/\./g, '-')}.${i.region}.compute.internal`;
    const tagNames = Object.keys(i.tags);
    const tree: Record<string, string | (() => string)> = {
      '/': 'latest',
      '/latest/': 'dynamic\nmeta-data',
      '/latest/meta-data/':
        'ami-id\nami-launch-index\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nplacement/\nservices/' +
        (tagNames.length > 0 ? '\ntags/' : ''),
      '/latest/meta-data/ami-id': i.imageId,
      '/latest/meta-data/ami-launch-index': '0',
      '/latest/meta-data/hostname': hostname,
      '/latest/meta-data/local-hostname': hostname,
      '/latest/meta-data/instance-id': i.instanceId,
      '/latest/meta-data/instance-type': i.instanceType,
      '/latest/meta-data/local-ipv4': i.privateIp,
      '/latest/meta-data/placement/': 'availability-zone\nregion',
      '/latest/meta-data/placement/availability-zone': i.availabilityZone,
      '/latest/meta-data/placement/region': i.region,
      '/latest/meta-data/services/': 'domain\npartition',
      '/latest/meta-data/services/domain': 'amazonaws.com',
      '/latest/meta-data/services/partition': 'aws',
      '/latest/meta-data/iam/': 'info\nsecurity-credentials/',
      '/latest/meta-data/iam/info': () =>
        JSON.stringify(
          {
            Code: 'Success',
            LastUpdated: awsTimestamp(this.ctx.clock()),
            InstanceProfileArn: instanceProfileArn(i.account, i.instanceProfileName),
            InstanceProfileId: i.instanceProfileId,
          },
          null,
          2,
        ),
      '/latest/meta-data/iam/security-credentials/': role,
      [`/latest/meta-data/iam/security-credentials/${role}`]: () => JSON.stringify(this.credentials(i), null, 2),
      '/latest/dynamic/': 'instance-identity/',
      '/latest/dynamic/instance-identity/': 'document\npkcs7\nrsa2048\nsignature',
      '/latest/dynamic/instance-identity/document': i.document,
      '/latest/dynamic/instance-identity/pkcs7': i.pkcs7,
      '/latest/dynamic/instance-identity/rsa2048': i.pkcs7,
      '/latest/dynamic/instance-identity/signature': i.signature,
    };
    if (tagNames.length > 0) {
      tree['/latest/meta-data/tags/'] = 'instance/';
      tree['/latest/meta-data/tags/instance/'] = tagNames.join('\n');
      for (const [k, v] of Object.entries(i.tags)) tree[`/latest/meta-data/tags/instance/${k}`] = v;
    }
    // IMDS answers directory paths with or without the trailing slash.
    const value = tree[path] ?? (path.endsWith('/') ? undefined : tree[`${path}/`]);
    return typeof value === 'function' ? value() : value;
  }
}
