/**
 * The token endpoint's error body: every error, whatever raised it, answers
 * with Athenz's status and both the RFC 6749 fields and Athenz's {code, message}.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, badRequest, forbidden, notFound, unauthorized } from '@tessera/core/errors';
import { invalidRequest, invalidScope, oauthErrorBody } from '../src/tokens/oauth-error.ts';

test('an OAuthError keeps its own error code and status', () => {
  assert.deepEqual(oauthErrorBody(invalidScope('no such role', 403)), {
    status: 403,
    body: { error: 'invalid_scope', error_description: 'no such role', code: 403, message: 'no such role' },
  });
  assert.deepEqual(oauthErrorBody(invalidRequest('scope is required')).body.error, 'invalid_request');
});

test('an ApiError is mapped to the OAuth error code of its status', () => {
  const cases: [ApiError, string][] = [
    [unauthorized('no client certificate'), 'invalid_client'],
    [forbidden('not a member'), 'invalid_scope'],
    [notFound('no such domain'), 'invalid_scope'],
    [badRequest('bad expires_in'), 'invalid_request'],
    [new ApiError(409, 'conflict'), 'invalid_request'],
  ];
  for (const [e, error] of cases) {
    const { status, body } = oauthErrorBody(e);
    assert.equal(status, e.status);
    assert.deepEqual(body, { error, error_description: e.message, code: e.status, message: e.message }, `status ${e.status}`);
  }
});

test('a Fastify 4xx error is an invalid_request with its message, or a hint for a wrong content type', () => {
  assert.deepEqual(oauthErrorBody({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'Request body is too large' }), {
    status: 413,
    body: { error: 'invalid_request', error_description: 'Request body is too large', code: 413, message: 'Request body is too large' },
  });
  const media = oauthErrorBody({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: "Unsupported Media Type: application/json" });
  assert.equal(media.status, 415);
  assert.match(String(media.body.message), /^Unsupported content type: send the request as application\/x-www-form-urlencoded/);
  assert.equal(media.body.error_description, media.body.message);
  // A 4xx without a message still says something.
  assert.deepEqual(oauthErrorBody({ statusCode: 400 }).body, { error: 'invalid_request', error_description: 'Bad request', code: 400, message: 'Bad request' });
});

test('anything else is a 500 that reveals nothing of the cause', () => {
  const expected = { status: 500, body: { error: 'server_error', error_description: 'Internal server error', code: 500, message: 'Internal server error' } };
  assert.deepEqual(oauthErrorBody(new Error('db password is hunter2')), expected, 'no statusCode');
  assert.deepEqual(oauthErrorBody({ statusCode: 503, message: 'upstream at 10.0.0.5 down' }), expected, 'a 5xx statusCode');
  assert.deepEqual(oauthErrorBody({ statusCode: 302, message: 'redirect' }), expected, 'below 400');
});
