/**
 * CORS for the user token exchange only (`/user/{name}/token`): Athenz's UI
 * logs in from the browser, sending the password straight to ZMS from its own
 * origin. Origins must be on the operator's list (`--cors-origins`, empty by
 * default); no other path answers cross-origin requests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, forbidden, unauthorized } from '@tessera/core/errors';

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

/** The `services` query item as a list, each on the allow-list (Athenz: "Service X is not authorized in ZMS"). */
export function requestedServices(value: string | undefined, allowed: readonly string[], api: string, status: 400 | 401): string[] {
  if (!value) return [];
  const services = value.split(',');
  for (const service of services) {
    if (!allowed.includes(service)) {
      const message = `${api}: Service ${service} is not authorized in ZMS${allowed.length ? ` (authorized: ${allowed.join(', ')})` : ' (no service is; an operator adds them with --authorized-services)'}`;
      throw status === 400 ? badRequest(message) : unauthorized(message);
    }
  }
  return services;
}

/** onSend hook of the token route (it runs for errors too): CORS headers for an allowed Origin, so the browser reads the answer. */
export function loginCorsHeaders(origins: readonly string[]) {
  return async (req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin && origins.includes(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
    }
    return payload;
  };
}

/** The preflight: only from an allowed origin, only for allowed services; GET with the requested headers, cached 30 days (as Athenz). */
export function loginPreflight(origins: readonly string[], services: readonly string[]) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const origin = req.headers.origin;
    if (!origin || !origins.includes(origin)) {
      throw forbidden(`optionsUserToken: origin ${origin ?? '(none)'} may not request user tokens (an operator allows origins with --cors-origins)`);
    }
    const query = req.query as Record<string, string | undefined>;
    if (!query.services) throw badRequest('optionsUserToken: No authorized services specified in the request');
    requestedServices(query.services, services, 'optionsUserToken', 400);
    const asked = String(req.headers['access-control-request-headers'] ?? '');
    const headers = asked.split(',').map((h) => h.trim()).filter(Boolean);
    if (headers.length && headers.every((h) => HEADER_NAME.test(h))) reply.header('access-control-allow-headers', headers.join(', '));
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
    reply.header('access-control-allow-methods', 'GET');
    reply.header('access-control-max-age', '2592000');
    return reply.code(204).send();
  };
}
