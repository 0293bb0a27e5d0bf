import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, OPERATOR, signIn, startTestConsole, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';
const cursor = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const RUN = randomUUID();

/** Input PostgreSQL would refuse with an error (a NUL byte, a date or an id out of its range): a 400 that says what, never a 500. */
describe('the console given what the database cannot take', () => {
  const testbed = useTestDatabase(['deliveries', 'job_runs', 'job_pauses', 'console_audit']);
  let server: TestConsole;
  let cookie: string;
  beforeAll(async () => {
    server = await startTestConsole(testbed.database.db);
    cookie = (await signIn(server.url, OPERATOR.token)).cookie;
  });
  afterAll(async () => { await server?.close(); });

  const cases: Array<[string, string, string, unknown?]> = [
    ['a NUL in a runs filter', 'GET', `/api/v1/runs?job=${SEND}%00`],
    ['a NUL in a delivery key filter', 'GET', '/api/v1/deliveries?key=a%00b'],
    ['a NUL in an item filter', 'GET', '/api/v1/deliveries?itemId=%00'],
    ['a NUL in a delivery\'s key', 'GET', '/api/v1/deliveries/a%00b'],
    ['a NUL in a delivery cursor', 'GET', `/api/v1/deliveries?cursor=${cursor({ key: 'a\u0000' })}`],
    ['a run cursor in year 0', 'GET', `/api/v1/runs?cursor=${cursor({ startedAt: '0000-01-01T00:00:00.000000Z', id: RUN })}`],
    ['a run cursor past year 9999', 'GET', `/api/v1/runs?cursor=${cursor({ startedAt: '+275760-09-13T00:00:00.000Z', id: RUN })}`],
    ['a run cursor on February 30', 'GET', `/api/v1/runs?cursor=${cursor({ startedAt: '2026-02-30T00:00:00Z', id: RUN })}`],
    ['an audit cursor past bigint', 'GET', `/api/v1/audit?cursor=${cursor({ id: '9999999999999999999' })}`],
    ['a NUL in a pause reason', 'POST', `/api/v1/jobs/${SEND}/pause`, { reason: 'a\u0000b' }],
    ['a NUL in a re-arm filter', 'POST', '/api/v1/deliveries/rearm/preview', { key: '\u0000' }],
    ['a NUL in a re-arm reason', 'POST', '/api/v1/deliveries/rearm', { previewId: RUN, reason: '\u0000' }],
    ['a NUL in a field name', 'POST', '/api/v1/deliveries/rearm/preview', { 'job\u0000': 'x' }],
  ];
  it.each(cases)('answers %s with 400 and what is wrong (API)', async (_name, method, path, body) => {
    const response = await call(`${server.url}${path}`, OPERATOR.token, method, body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/NUL byte|cursor is malformed|must/);
  });

  const pages = [
    `/runs?job=${SEND}%00`, '/delivery?key=%00', '/deliveries?key=%00', `/audit?job=%00`,
    `/audit?cursor=${cursor({ id: '9223372036854775808' })}`, `/runs?cursor=${cursor({ startedAt: '0000-01-01T00:00:00Z', id: RUN })}`,
  ];
  it.each(pages)('answers the page %s with 400', async (path) => {
    const response = await fetch(`${server.url}${path}`, { headers: { cookie } });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/NUL byte|cursor is malformed/);
  });

  it('still takes what is in range: a cursor at the largest id and at a leap day', async () => {
    expect((await call(`${server.url}/api/v1/audit?cursor=${cursor({ id: '9223372036854775807' })}`, OPERATOR.token)).status).toBe(200);
    const leap = cursor({ startedAt: '2024-02-29T23:59:59.999999Z', id: RUN });
    expect((await call(`${server.url}/api/v1/runs?cursor=${leap}`, OPERATOR.token)).status).toBe(200);
  });
});
