import { afterEach, describe, expect, it } from 'vitest';
import type { ConsoleToken } from '../../src/console/console-config.js';
import { call, OPERATOR, signIn, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

const LINK: ConsoleToken = { name: 'local-operator', role: 'operator', token: 'one-time-link-0123456789abcdefgh' };
const WRONG = (i: number) => `wrong-token-${i}-xxxxxxxxxxxxxxxxxxxx`;

/** Signing in: where it may send a person, what a link may do, who a failed attempt may hold up, and from where. */
describe('signing in to the console', () => {
  const testbed = useTestDatabase([]);
  const servers: TestConsole[] = [];
  afterEach(async () => { await Promise.all(servers.splice(0).map((server) => server.close())); });
  const start = async (options: Parameters<typeof startTestConsole>[1] = {}) => {
    const server = await startTestConsole(testbed.database.db, options);
    servers.push(server);
    return server;
  };
  const form = (url: string, body: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) =>
    fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body).toString() });

  it('sends a person only to a path of this console after sign-in, never to another site, and never answers 500', async () => {
    const server = await start();
    for (const next of ['/\t/evil.example/', '/\n/evil.example/', '/\r\nSet-Cookie: x=1', '//evil.example/', '/\\evil.example/',
      'https://evil.example/', '/%09/evil.example/', '/\u001b/evil.example/']) {
      const response = await form(server.url, { token: OPERATOR.token, next });
      expect(response.status, JSON.stringify(next)).toBe(303);
      expect(response.headers.get('location'), JSON.stringify(next)).toMatch(/^\/(?![/\\])/);
      expect(['/jobs', '/%09/evil.example/']).toContain(response.headers.get('location'));
    }
    // A NUL byte, as in any field: 400.
    expect((await form(server.url, { token: OPERATOR.token, next: '/\u0000' })).status).toBe(400);
    const kept = await form(server.url, { token: OPERATOR.token, next: '/runs?job=é' });
    expect(kept.headers.get('location')).toBe('/runs?job=%C3%A9');
  });

  it('signs in from the one-time link once, with the token gone from the address bar; the link is no Bearer token', async () => {
    const server = await start({ tokens: [], auth: { oneTimeLink: LINK } });
    const link = `${server.url}/login?token=${LINK.token}&next=${encodeURIComponent('/runs')}`;
    expect((await call(`${server.url}/api/v1/jobs`, LINK.token)).status).toBe(401);
    expect((await form(server.url, { token: LINK.token })).status).toBe(401);

    const first = await fetch(link, { redirect: 'manual', headers: { 'sec-fetch-site': 'none' } });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/runs');
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    expect((await call(`${server.url}/api/v1/jobs`, undefined, 'GET', undefined, { cookie })).status).toBe(200);

    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(303);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(again.headers.get('location')).toBe('/login?next=%2Fruns&notice=link');
    expect(await (await fetch(`${server.url}${again.headers.get('location')}`)).text()).toContain('That sign-in link is spent');
  });

  it('signs nobody in from a link with a configured token: the token leaves the address bar', async () => {
    const server = await start();
    const response = await fetch(`${server.url}/login?token=${OPERATOR.token}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(response.headers.get('location')).toBe('/login?notice=link');
  });

  it('refuses a sign-in a browser sends from another site (login CSRF), link or form, even without Sec-Fetch-Site', async () => {
    const server = await start({ auth: { oneTimeLink: LINK } });
    const crossSite = await fetch(`${server.url}/login?token=${LINK.token}`, { redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect((await form(server.url, { token: OPERATOR.token }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await form(server.url, { token: OPERATOR.token }, { origin: 'null' })).status).toBe(403);
    expect((await form(server.url, { token: OPERATOR.token }, { 'sec-fetch-site': 'cross-site', origin: server.url })).status).toBe(403);
    expect((await form(server.url, { token: OPERATOR.token }, { origin: server.url })).status).toBe(303);
    // The refused link was not spent.
    expect((await fetch(`${server.url}/login?token=${LINK.token}`, { redirect: 'manual' })).headers.get('set-cookie')).toContain('sweep_session=');
  });

  it('throttles failures only: after ten wrong tokens from one address the right one still signs in, by form and by Bearer', async () => {
    const server = await start();
    for (let i = 0; i < 10; i += 1) expect((await form(server.url, { token: WRONG(i) })).status).toBe(401);
    const throttled = await form(server.url, { token: WRONG(10) });
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await call(`${server.url}/api/v1/jobs`, WRONG(11))).status).toBe(429);

    expect((await form(server.url, { token: OPERATOR.token })).status).toBe(303);
    expect((await call(`${server.url}/api/v1/jobs`, VIEWER.token)).status).toBe(200);
  });

  it('with a trusted hop count, a client reaching the pod directly escapes the throttle by no forged X-Forwarded-For, and locks out no one', async () => {
    const server = await start({ auth: { maxFailures: 3 }, trustProxy: 1 });
    for (let i = 0; i < 3; i += 1) {
      const forged = { 'x-forwarded-for': `198.51.100.${i}` };
      expect((await call(`${server.url}/api/v1/jobs`, WRONG(i), 'GET', undefined, forged)).status).toBe(401);
    }
    // Its peer (127.0.0.1) is counted whatever the header says.
    expect((await call(`${server.url}/api/v1/jobs`, WRONG(9), 'GET', undefined, { 'x-forwarded-for': '203.0.113.77' })).status).toBe(429);
    // The addresses it named, and its own, still sign in with a correct token.
    expect((await call(`${server.url}/api/v1/jobs`, OPERATOR.token, 'GET', undefined, { 'x-forwarded-for': '198.51.100.0' })).status).toBe(200);
    expect((await signIn(server.url, VIEWER.token)).cookie).toMatch(/^sweep_session=/);
  });

  it('behind a trusted proxy, counts per forwarded client too: one client\'s failures answer 429 to that client', async () => {
    const server = await start({ auth: { maxFailures: 3 }, trustProxy: ['127.0.0.1'] });
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 3; i += 1) await call(`${server.url}/api/v1/jobs`, WRONG(i), 'GET', undefined, from('198.51.100.7'));
    expect((await call(`${server.url}/api/v1/jobs`, WRONG(5), 'GET', undefined, from('198.51.100.7'))).status).toBe(429);
    expect((await call(`${server.url}/api/v1/jobs`, OPERATOR.token, 'GET', undefined, from('198.51.100.7'))).status).toBe(200);
  });

  it('bounds the sessions per token: one token holder signing in again and again signs no one else out', async () => {
    const server = await start({ auth: { maxSessionsPerToken: 3 } });
    const operator = await signIn(server.url, OPERATOR.token);
    const viewers = [];
    for (let i = 0; i < 5; i += 1) viewers.push(await signIn(server.url, VIEWER.token));
    const status = async (cookie: string) => (await call(`${server.url}/api/v1/jobs`, undefined, 'GET', undefined, { cookie })).status;
    expect(await status(operator.cookie)).toBe(200);
    expect(await Promise.all(viewers.map((viewer) => status(viewer.cookie)))).toEqual([401, 401, 200, 200, 200]);
  });
});
