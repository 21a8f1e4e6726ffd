/**
 * A small JSON API under `/_sim/` so that a simulator started with
 * `tessera aws-sim` can be driven from other processes (demo scripts, a shell):
 * mint access keys, launch tasks, pods and instances. It needs the admin token
 * the command prints; the published certificate is public.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isAwsError } from './aws-error.ts';

export interface AdminOperations {
  adminToken: string;
  identityDocumentCertPem: string;
  createAccessKey(account: string, options?: { userName?: string }): unknown;
  eksCluster(options: { account: string; region?: string; cluster: string }): unknown;
  launchFargateTask(options: never): unknown;
  launchEksPod(options: never): unknown;
  launchEc2Instance(options: never): Promise<unknown>;
  rotateClusterKeys(options: never): unknown;
  setOrganization(account: string, orgId: string): void;
}

function tokenOk(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function registerAdminApi(app: FastifyInstance, ops: AdminOperations): void {
  app.register(
    async (scope) => {
      scope.get('/identity-document-cert', async (_req, reply) =>
        reply.header('content-type', 'application/x-pem-file').send(ops.identityDocumentCertPem),
      );
      scope.register(async (secured) => {
        secured.addHook('onRequest', async (req, reply) => {
          if (!tokenOk(req.headers.authorization, ops.adminToken)) {
            return reply.code(401).send({ code: 401, message: 'aws-sim admin API needs Authorization: Bearer <AWS_SIM_ADMIN_TOKEN>' });
          }
        });
        const body = (b: unknown): Record<string, unknown> => (typeof b === 'object' && b !== null ? (b as Record<string, unknown>) : {});
        secured.post('/access-keys', async (req) => {
          const b = body(req.body);
          return ops.createAccessKey(String(b.account ?? ''), typeof b.userName === 'string' ? { userName: b.userName } : {});
        });
        secured.post('/eks-clusters', async (req) => ops.eksCluster(body(req.body) as never));
        secured.post('/eks-clusters/rotate-keys', async (req) => ops.rotateClusterKeys(body(req.body) as never));
        secured.post('/organizations', async (req) => {
          const b = body(req.body);
          ops.setOrganization(String(b.account ?? ''), String(b.orgId ?? ''));
          return { account: b.account, orgId: b.orgId };
        });
        secured.post('/fargate-tasks', async (req) => ops.launchFargateTask(body(req.body) as never));
        secured.post('/eks-pods', async (req) => ops.launchEksPod(body(req.body) as never));
        secured.post('/ec2-instances', async (req) => ops.launchEc2Instance(body(req.body) as never));
      });
      scope.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
        if (isAwsError(err)) return reply.code(err.status).send({ code: err.status, error: err.code, message: err.message });
        const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
        return reply.code(status).send({ code: status, message: status === 500 ? 'internal error' : (err.message ?? 'bad request') });
      });
    },
    { prefix: '/_sim' },
  );
}
