import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/http/service-error.js';
import { parseTokenAnswer, readJwtExpiry } from '../../src/http/token.client.js';

const NOW = Date.parse('2022-06-03T10:00:00Z');

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned JWT-shaped token: the client reads `exp` without verifying anything. */
function jwt(payload: Record<string, unknown>): string {
  return `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(payload)}.c2lnbmF0dXJl`;
}

function permanentErrorOf(data: unknown): ServiceError {
  try {
    parseTokenAnswer(data, NOW);
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error(`expected a ServiceError for ${JSON.stringify(data)}`);
}

describe('parseTokenAnswer', () => {
  it('uses expires_in as the lifetime', () => {
    expect(parseTokenAnswer({ access_token: 'opaque-1', token_type: 'Bearer', expires_in: 300 }, NOW)).toEqual({
      accessToken: 'opaque-1',
      expiresInMs: 300_000,
    });
  });

  it('prefers expires_in over a JWT exp claim', () => {
    const token = jwt({ sub: 'sweep', exp: NOW / 1000 + 3600 });
    expect(parseTokenAnswer({ access_token: token, expires_in: 120 }, NOW).expiresInMs).toBe(120_000);
  });

  it('uses a JWT exp claim minus now when expires_in is missing', () => {
    const token = jwt({ sub: 'sweep', exp: NOW / 1000 + 900 });
    expect(parseTokenAnswer({ access_token: token, token_type: 'Bearer' }, NOW)).toEqual({
      accessToken: token,
      expiresInMs: 900_000,
    });
  });

  it('gives a JWT that has already expired no lifetime', () => {
    const token = jwt({ exp: NOW / 1000 - 10 });
    expect(parseTokenAnswer({ access_token: token }, NOW).expiresInMs).toBe(0);
  });

  it('assumes 60 s without expires_in and without a JWT exp', () => {
    expect(parseTokenAnswer({ access_token: 'opaque-1' }, NOW)).toEqual({ accessToken: 'opaque-1', expiresInMs: 60_000 });
    expect(parseTokenAnswer({ access_token: jwt({ sub: 'sweep' }) }, NOW).expiresInMs).toBe(60_000);
  });

  it.each([
    ['zero', 0],
    ['negative', -5],
    ['a string', '300'],
    ['null', null],
  ])('ignores an expires_in that is %s', (_, expiresIn) => {
    expect(parseTokenAnswer({ access_token: 'opaque-1', expires_in: expiresIn }, NOW).expiresInMs).toBe(60_000);
  });

  it.each([
    ['a missing access_token', { token_type: 'Bearer', expires_in: 300 }],
    ['an empty access_token', { access_token: '', expires_in: 300 }],
    ['a numeric access_token', { access_token: 12345, expires_in: 300 }],
    ['an object access_token', { access_token: { value: 'x' } }],
    ['an HTML page', '<html><body>Welcome to nginx!</body></html>'],
    ['null', null],
    ['undefined', undefined],
    ['an array', ['opaque-1']],
    ['a number', 42],
  ])('refuses %s as a permanent failure', (_, data) => {
    const error = permanentErrorOf(data);
    expect(error.kind).toBe('permanent');
    expect(error.status).toBe(200);
    expect(error.details.endpoint).toBe('POST /auth/token');
    expect(error.message).toBe('POST /auth/token answered 200 without an access_token');
  });

  it('either gives a non-empty token with a lifetime or throws a permanent ServiceError, for any JSON (property)', () => {
    const answer = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { access_token: fc.oneof(fc.string(), fc.jsonValue()), expires_in: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()) },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(answer, (data) => {
        let issued;
        try {
          issued = parseTokenAnswer(data, NOW);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
          expect((error as ServiceError).kind).toBe('permanent');
          return;
        }
        expect(typeof issued.accessToken).toBe('string');
        expect(issued.accessToken).not.toBe('');
        expect(Number.isNaN(issued.expiresInMs)).toBe(false);
        expect(issued.expiresInMs).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('readJwtExpiry', () => {
  it('reads the exp claim of a JWT', () => {
    expect(readJwtExpiry(jwt({ sub: 'sweep', exp: 1_654_250_400 }))).toBe(1_654_250_400);
  });

  it.each([
    ['an opaque token', 'opaque-token-1'],
    ['two segments', `${base64url({ alg: 'none' })}.${base64url({ exp: 1 })}`],
    ['four segments', `a.${base64url({ exp: 1 })}.c.d`],
    ['an empty payload', 'a..c'],
    ['a payload that is not JSON', `a.${Buffer.from('not json').toString('base64url')}.c`],
    ['a payload that is JSON null', `a.${base64url(null)}.c`],
    ['no exp claim', jwt({ sub: 'sweep' })],
    ['a string exp claim', jwt({ exp: '1654250400' })],
  ])('gives undefined for %s', (_, token) => {
    expect(readJwtExpiry(token)).toBeUndefined();
  });

  it('gives undefined or a finite number for any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.string(), fc.jsonValue(), fc.string()).map(([h, p, s]) => `${h}.${base64url(p)}.${s}`)), (token) => {
        const exp = readJwtExpiry(token);
        if (exp !== undefined) expect(Number.isFinite(exp)).toBe(true);
      }),
    );
  });
});
