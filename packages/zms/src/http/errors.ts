/** Maps every failure to Athenz's ResourceError body: {"code": <status>, "message": "..."}. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isApiError } from '@tessera/core/errors';
import { isDatabaseUnavailable } from '@tessera/store/unavailable';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (isApiError(error)) return reply.code(error.status).send({ code: error.status, message: error.message });
    // Fastify's own client errors: unparseable JSON, wrong content type, too large.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const message = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'Unsupported content type: send application/json'
        : error.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError
          ? `Request body is not valid JSON: ${error.message}`
          : error.message;
      return reply.code(status).send({ code: status, message });
    }
    if (isDatabaseUnavailable(error)) {
      // An outage, not a bug: the client may retry; the store reconnects by itself.
      req.log.warn({ err: error }, 'database unavailable');
      return reply.code(503).header('retry-after', '2')
        .send({ code: 503, message: 'Service unavailable: database unavailable, try again shortly' });
    }
    req.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: 500, message: 'Internal server error' });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ code: 404, message: `No such endpoint: ${req.method} ${req.url.split('?')[0]}` });
  });
}
