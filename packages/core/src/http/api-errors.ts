/**
 * Every failure in Athenz's ResourceError body {"code": <status>, "message": "..."},
 * including Fastify's own (schema validation, content type, body size, path
 * length, unknown routes, timeouts); and request framing shared by the ZMS and
 * ZTS apps (bodiless requests accepted whatever their Content-Type). Both
 * services install it; what is API-specific (the words for schema patterns,
 * which errors mean the store is down) is passed in.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Socket } from 'node:net';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { isApiError } from '../errors.ts';
import { describeValidationError, type PatternDescriber } from './schema-errors.ts';

export interface ErrorHandlingOptions {
  /** Words for the route schemas' patterns in a 400. */
  describePattern: PatternDescriber;
  /** True for an error that means the database is unreachable: a 503 the client may retry. */
  isOutage: (error: unknown) => boolean;
}

const send = (reply: FastifyReply, code: number, message: string) => reply.code(code).send({ code, message });

// Athenz's generic clients send `Content-Type: application/json` on every call, even a DELETE with no body.
/** Long enough for any valid name (resources are up to 1,024 characters); longer is a 414. */
const MAX_PARAM_LENGTH = 1100;
const TOO_LONG = `A path parameter is too long (the limit is ${MAX_PARAM_LENGTH} characters)`;

const BODILESS = new Set(['GET', 'HEAD', 'DELETE']);
const CLIENT_ERROR_LINGER_MS = 10_000;

/** A refusal written by Node's HTTP layer rather than a route, in Athenz's body. */
function writeRefusal(res: ServerResponse, code: number, message: string): void {
  const body = JSON.stringify({ code, message });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  // Node answers an Expect other than 100-continue itself, with an empty 417, unless someone listens.
  app.server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    writeRefusal(res, 417, 'Expectation failed: the only Expect this server supports is "100-continue"');
  });
  app.addHook('onRequest', async (req, reply) => {
    // Node's own Host check (requireHostHeader) answers with an empty 400; the servers turn it off for this one.
    if (req.raw.httpVersion === '1.1' && !req.headers.host) {
      reply.header('connection', 'close');
      return send(reply, 400, 'Missing Host header: an HTTP/1.1 request must name the host it is for');
    }
    const h = req.raw.headers;
    const noBody = (h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined;
    if (BODILESS.has(req.method) && noBody) delete h['content-type'];
  });
  // Bodies are JSON only: anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Bodies are plain JSON: the route's schema (ajv) checks them; responses are written as they are.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (isApiError(error)) {
      if (error.headers) reply.headers(error.headers);
      // A temporary refusal says when to come back: siad's backoff waits at least this long.
      if ((error.status === 503 || error.status === 429) && !reply.hasHeader('retry-after')) reply.header('retry-after', '30');
      return send(reply, error.status, error.message);
    }
    if (error.validation) return send(reply, 400, describeValidationError(error.validation, error.validationContext, options.describePattern));
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      // Read (and drop) the rest of the body so the client sees the 413 instead of a reset, then close.
      reply.header('connection', 'close');
      req.raw.resume();
      return send(reply, 413, `Request body too large: the limit is ${req.routeOptions.bodyLimit ?? 1048576} bytes`);
    }
    if (status >= 400 && status < 500) {
      const message = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'Unsupported content type: send application/json'
        : error.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError
          ? `Request body is not valid JSON: ${error.message}`
          : error.message;
      return send(reply, status, message);
    }
    if (options.isOutage(error)) {
      // An outage, not a bug: the client may retry; the store reconnects by itself.
      req.log.warn({ err: error }, 'database unavailable');
      return reply.code(503).header('retry-after', '2')
        .send({ code: 503, message: 'Service unavailable: database unavailable, try again shortly' });
    }
    req.log.error({ err: error }, 'request failed');
    return send(reply, 500, 'Internal server error');
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    // The UI's catch-all route can swallow the router's own over-long-parameter error: answer it here.
    if (path.split('/').some((segment) => segment.length > MAX_PARAM_LENGTH)) return send(reply, 414, TOO_LONG);
    return send(reply, 404, `No such endpoint: ${req.method} ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`);
  });
}

/** Fastify constructor options for the same error shape on errors raised before routing, and for strict JSON types. */
export const httpFrameworkOptions: Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'ajv' | 'routerOptions'> = {
  frameworkErrors(error: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return send(reply, 414, TOO_LONG);
    return send(reply, 400, `Malformed request path: ${error.message}`);
  },
  clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [code, message] = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request timeout: the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request headers too large']
        : [400, 'Malformed HTTP request'];
    const body = JSON.stringify({ code, message });
    const answer = () => {
      if (!socket.writable) return void socket.destroy();
      // end(), not write() + destroy(): destroy drops what is not yet flushed, and a loaded
      // server then closed the connection without the answer.
      socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      // A peer that never reads its answer does not keep the socket.
      setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
    };
    // A bad request pipelined behind one still being answered: answer it after that response, in order
    // (written now, it would land inside or before the other response).
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (inFlight && !inFlight.writableFinished) inFlight.once('close', answer);
    else answer();
  },
  // JSON bodies keep their types (no "5" → 5); query strings are declared as strings.
  ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true } },
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
};
