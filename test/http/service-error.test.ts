import { AxiosError } from 'axios';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyRequestError,
  classifyStatus,
  errorFromResponse,
  parseRetryAfter,
  ServiceError,
} from '../../src/http/service-error.js';

const ENDPOINT = 'POST /notify/notifications';

describe('classifyStatus', () => {
  // One row per line of the answers table in docs/services-contract.md.
  it.each([
    [200, 'ok'],
    [201, 'ok'],
    [202, 'ok'],
    [409, 'conflict'],
    [401, 'unauthorized'],
    [403, 'permanent'],
    [400, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
    [429, 'transient'],
    [503, 'transient'],
    [500, 'transient'],
    [502, 'transient'],
    [504, 'transient'],
    [408, 'transient'],
  ] as const)('classifies %i as %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });

  it('treats every other 4xx as permanent and every 5xx as transient (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const expected =
          status >= 500 || status === 408 || status === 429
            ? 'transient'
            : status === 401
              ? 'unauthorized'
              : status === 409
                ? 'conflict'
                : 'permanent';
        expect(classifyStatus(status)).toBe(expected);
      }),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 3 ', now)).toBe(3_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date as the time left until it, from the given now', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:30:00 GMT', now + 60_000)).toBe(60_000);
  });

  it('reads an HTTP date in the past as no wait', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
  });

  it.each([
    ['garbage', 'soon'],
    ['an empty header', ''],
    ['a blank header', '   '],
    ['an absent header', undefined],
    ['a number instead of a string', 5],
  ])('gives undefined for %s', (_, value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  it('gives undefined or a non-negative number of milliseconds for any value (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.anything()), (value) => {
        const ms = parseRetryAfter(value, now);
        if (ms !== undefined) {
          expect(Number.isNaN(ms)).toBe(false);
          expect(ms).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('errorFromResponse', () => {
  it.each([429, 503])('carries the Retry-After of a %i as retryAfterMs and is transient', (status) => {
    const error = errorFromResponse(ENDPOINT, status, { 'retry-after': '3' }, undefined);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.kind).toBe('transient');
    expect(error.details).toEqual({ endpoint: ENDPOINT, status, retryAfterMs: 3_000 });
  });

  it('reads an HTTP-date Retry-After relative to the given now', () => {
    const now = Date.parse('2022-06-03T10:00:00Z');
    const error = errorFromResponse(ENDPOINT, 429, { 'retry-after': 'Fri, 03 Jun 2022 10:00:05 GMT' }, undefined, now);
    expect(error.details.retryAfterMs).toBe(5_000);
  });

  it.each([500, 502, 408, 400])('ignores a Retry-After on a %i', (status) => {
    expect(errorFromResponse(ENDPOINT, status, { 'retry-after': '3' }, undefined).details.retryAfterMs).toBeUndefined();
  });

  it('leaves retryAfterMs undefined on a 429 without Retry-After', () => {
    expect(errorFromResponse(ENDPOINT, 429, {}, undefined).details.retryAfterMs).toBeUndefined();
  });

  it.each([301, 302, 307, 308])('treats a %i as a permanent redirect that is not followed', (status) => {
    const error = errorFromResponse(ENDPOINT, status, { location: 'https://elsewhere.example/' }, undefined);
    expect(error.kind).toBe('permanent');
    expect(error.status).toBe(status);
    expect(error.message).toBe(`${ENDPOINT} answered ${status} (redirect, not followed)`);
  });

  it('maps 401 to unauthorized, 403 and 422 to permanent, 500 to transient', () => {
    expect(errorFromResponse(ENDPOINT, 401, {}, undefined).kind).toBe('unauthorized');
    expect(errorFromResponse(ENDPOINT, 403, {}, undefined).kind).toBe('permanent');
    expect(errorFromResponse(ENDPOINT, 422, {}, undefined).kind).toBe('permanent');
    expect(errorFromResponse(ENDPOINT, 500, {}, undefined).kind).toBe('transient');
  });

  it('puts the error fields of a JSON body in the message as a short reason', () => {
    const error = errorFromResponse(ENDPOINT, 422, {}, { error: 'invalid_request', message: 'message is required', stack: 'x' });
    expect(error.message).toBe(`${ENDPOINT} answered 422: invalid_request - message is required`);
  });

  it('uses an OAuth error_description', () => {
    const error = errorFromResponse('POST /auth/token', 400, {}, { error: 'invalid_scope', error_description: 'unknown workspace' });
    expect(error.message).toBe('POST /auth/token answered 400: invalid_scope - unknown workspace');
  });

  it('answers with the status alone when the body is empty', () => {
    expect(errorFromResponse(ENDPOINT, 404, {}, '').message).toBe(`${ENDPOINT} answered 404`);
    expect(errorFromResponse(ENDPOINT, 404, {}, null).message).toBe(`${ENDPOINT} answered 404`);
  });

  it('folds a multi-line body into one line of at most 200 characters', () => {
    const html = `<html>\n  <body>\n${'<p>Service Unavailable</p>\n'.repeat(50)}</body></html>`;
    const error = errorFromResponse(ENDPOINT, 502, {}, html);
    const reason = error.message.slice(`${ENDPOINT} answered 502: `.length);
    expect(error.message).not.toContain('\n');
    expect(reason.startsWith('<html> <body> <p>Service Unavailable</p>')).toBe(true);
    expect(reason.length).toBeLessThanOrEqual(201);
    expect(reason.endsWith('…')).toBe(true);
  });

  it('leaves no control character of a body in the message', () => {
    const error = errorFromResponse(ENDPOINT, 400, {}, 'bad \x1b[2J\x1b]0;title\x07request\x08\x9b');
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(error.message).toContain('bad');
    expect(error.message).toContain('request');
  });

  it.each([
    ['an error field', { error: 'invalid_token', message: 'token Bearer xyz.abc-def_g is expired' }],
    ['a field with no error name', { echo: { authorization: 'Bearer xyz.abc-def_g' } }],
    ['a plain text body', 'Authorization: Bearer xyz.abc-def_g was refused'],
    ['a lower-case scheme', 'bearer   xyz.abc-def_g'],
  ])('never lets a Bearer value from %s into the message', (_, body) => {
    const error = errorFromResponse(ENDPOINT, 401, {}, body);
    expect(error.message).not.toContain('xyz');
    expect(error.message).toMatch(/bearer \[redacted\]/i);
  });

  it('never lets a Basic credential from the body into the message', () => {
    const error = errorFromResponse('POST /auth/token', 401, {}, { error: 'invalid_client', message: 'Basic c3dlZXA6c2VjcmV0 refused' });
    expect(error.message).not.toContain('c3dlZXA6c2VjcmV0');
  });

  it('never lets a base64 or JWT Bearer value into the message, whatever surrounds it (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9\-._~+/]{8,40}=*$/).map((s) => `Qz${s}`);
    fc.assert(
      fc.property(fc.string(), token, fc.string(), fc.boolean(), (before, value, after, asJson) => {
        const text = `${before} Bearer ${value} ${after}`;
        const error = errorFromResponse(ENDPOINT, 401, {}, asJson ? { message: text } : text);
        expect(error.message).not.toContain(value);
      }),
    );
  });
});

describe('classifyRequestError', () => {
  it.each([
    ['a reset connection', { code: 'ECONNRESET', message: 'read ECONNRESET' }],
    ['a refused connection', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:3001' }],
    ['a socket hang up without a code', { message: 'socket hang up' }],
    ['a DNS hiccup', { code: 'EAI_AGAIN', message: 'getaddrinfo EAI_AGAIN notify.internal' }],
  ])('treats %s as transient', (_, error) => {
    const classified = classifyRequestError(error, ENDPOINT);
    expect(classified).toBeInstanceOf(ServiceError);
    expect(classified.kind).toBe('transient');
    expect(classified.details.endpoint).toBe(ENDPOINT);
    expect(classified.status).toBeUndefined();
  });

  it('treats an axios timeout (ECONNABORTED) as a transient timeout', () => {
    const classified = classifyRequestError(new AxiosError('timeout of 10000ms exceeded', 'ECONNABORTED'), ENDPOINT);
    expect(classified.kind).toBe('transient');
    expect(classified.details.code).toBe('ETIMEDOUT');
    expect(classified.message).toBe(`no answer from ${ENDPOINT} within the timeout`);
  });

  it('keeps the code of a transient socket error', () => {
    expect(classifyRequestError({ code: 'ECONNRESET', message: 'read ECONNRESET' }, ENDPOINT).details.code).toBe('ECONNRESET');
  });

  it.each([
    ['a self-signed certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['an expired certificate', 'CERT_HAS_EXPIRED', 'certificate has expired'],
    ['an unverifiable certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
  ])('treats %s as permanent', (_, code, message) => {
    const classified = classifyRequestError(new AxiosError(message, code), ENDPOINT);
    expect(classified.kind).toBe('permanent');
    expect(classified.details.code).toBe(code);
    expect(classified.message).toContain(message);
  });

  it('treats an answer larger than maxContentLength as permanent', () => {
    const classified = classifyRequestError(new AxiosError('maxContentLength size of 1048576 exceeded', 'ERR_BAD_RESPONSE'), ENDPOINT);
    expect(classified.kind).toBe('permanent');
    expect(classified.details.code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('treats an unknown error as permanent and keeps a Bearer value out of its message', () => {
    const classified = classifyRequestError(new Error('request with Bearer xyz.abc failed'), ENDPOINT);
    expect(classified.kind).toBe('permanent');
    expect(classified.details.code).toBe('UNKNOWN');
    expect(classified.message).not.toContain('xyz');
  });

  it('returns a transient or permanent ServiceError for any error a request can throw (property)', () => {
    const code = fc.option(fc.oneof(fc.constantFrom('ECONNRESET', 'ECONNABORTED', 'ERR_BAD_RESPONSE', 'CERT_HAS_EXPIRED'), fc.string()), { nil: undefined });
    const thrown = fc.oneof(
      fc.record({ code, message: fc.string() }, { requiredKeys: ['message'] }).map(({ code: c, message }) => new AxiosError(message, c)),
      fc.string().map((message) => new Error(message)),
    );
    fc.assert(
      fc.property(thrown, (thrown) => {
        const classified = classifyRequestError(thrown, ENDPOINT);
        expect(classified).toBeInstanceOf(ServiceError);
        expect(['transient', 'permanent']).toContain(classified.kind);
      }),
    );
  });
});
