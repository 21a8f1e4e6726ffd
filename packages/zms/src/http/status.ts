/** getStatus: Athenz's health answer, {"code":200,"message":"OK"}, or a 404 when the store does not answer (as Athenz does). */
import type { FastifyInstance } from 'fastify';
import { notFound } from '@tessera/core/errors';
import { callerOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function statusRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/status', { schema: { operationId: 'getStatus', tags: ['status'], response: { 200: S.Status, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    try {
      await ctx.db.selectFrom('domains').select('name').limit(1).execute();
    } catch {
      throw notFound('getStatus: Error - no domains available');
    }
    return { code: 200, message: 'OK' };
  });
}
