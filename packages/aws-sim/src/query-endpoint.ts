/**
 * The one HTTP endpoint behind both AWS_ENDPOINT_URL_STS and
 * AWS_ENDPOINT_URL_IAM: requests are routed by the service in their SigV4
 * credential scope (unsigned requests may only be AssumeRoleWithWebIdentity).
 * Bodies are kept raw because the signature covers their exact bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from './clock.ts';
import { AwsError, invalidAction, isAwsError } from './aws-error.ts';
import type { CredentialStore } from './credentials.ts';
import type { RoleStore } from './iam-roles.ts';
import { IAM_VERSION, IAM_XMLNS, iamAction } from './iam-api.ts';
import type { IamOidcDeps } from './iam-oidc.ts';
import { newRequestId } from './ids.ts';
import { errorResponse, QueryParams, queryResponse } from './query-protocol.ts';
import { authenticate } from './request-auth.ts';
import { signatureMismatch, type SignedRequest } from './sigv4-verify.ts';
import { STS_VERSION, STS_XMLNS, stsAction, UNSIGNED_STS_ACTIONS, type StsDeps } from './sts-api.ts';

export interface QueryEndpointDeps {
  credentials: CredentialStore;
  roles: RoleStore;
  clock: Clock;
  sts: StsDeps;
  iamOidc: IamOidcDeps;
  log?: (message: string) => void;
}

function queryObject(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function send(reply: FastifyReply, status: number, xml: string, requestId: string): void {
  reply.code(status).header('content-type', 'text/xml').header('x-amzn-requestid', requestId).send(xml);
}

export function registerQueryEndpoint(app: FastifyInstance, deps: QueryEndpointDeps): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: { statusCode?: number; message?: string }, _req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const e =
        status === 500
          ? new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500, 'Receiver')
          : new AwsError('InvalidRequest', err.message ?? 'Bad request', status);
      if (status === 500) deps.log?.(`aws-sim: ${err.message ?? String(err)}`);
      const id = newRequestId();
      send(reply, e.status, errorResponse(e, STS_XMLNS, id), id);
    });
    const handler = (request: FastifyRequest, reply: FastifyReply) => handle(request, reply, deps);
    scope.post('/', handler);
    scope.get('/', handler);
  });
}

async function handle(request: FastifyRequest, reply: FastifyReply, deps: QueryEndpointDeps): Promise<void> {
  const requestId = newRequestId();
  let xmlns = STS_XMLNS;
  try {
    const url = new URL(request.url, 'http://aws-sim');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const form = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body.toString('utf8'))
      : new URLSearchParams();
    const params = new QueryParams(form, url.searchParams);
    const action = params.get('Action');
    const signed: SignedRequest = {
      method: request.method,
      path: url.pathname,
      query: queryObject(url.searchParams),
      headers: request.headers,
      body,
    };
    const auth = await authenticate(signed, deps.credentials, deps.clock);
    if (!auth && !(action && UNSIGNED_STS_ACTIONS.has(action))) {
      throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    }
    const service = auth?.service ?? 'sts';
    if (service !== 'sts' && service !== 'iam') {
      throw signatureMismatch(`Credential should be scoped to correct service: 'sts' or 'iam', not '${service}'.`);
    }
    if (service === 'iam') xmlns = IAM_XMLNS;
    if (!action) throw invalidAction('The request has no Action parameter.');
    const version = params.get('Version');
    const expected = service === 'iam' ? IAM_VERSION : STS_VERSION;
    if (version !== undefined && version !== expected) {
      throw invalidAction(`Could not find operation ${action} for version ${version}`);
    }
    const result =
      service === 'iam'
        ? iamAction(action, params, auth!.principal, deps.roles, deps.iamOidc)
        : stsAction(action, params, auth?.principal, deps.sts);
    send(reply, 200, queryResponse(action, xmlns, result, requestId), requestId);
  } catch (e) {
    if (!isAwsError(e)) deps.log?.(`aws-sim: ${(e as Error)?.stack ?? String(e)}`);
    const err = isAwsError(e)
      ? e
      : new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500, 'Receiver');
    send(reply, err.status, errorResponse(err, xmlns, requestId), requestId);
  }
}
