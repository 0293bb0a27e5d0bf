import { afterEach, describe, expect, it } from 'vitest';
import { delayNotifications } from '../support/job-fixtures.js';
import { startForwardProxy, type ForwardProxy } from '../support/forward-proxy.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const PASSWORD = 'pr0xy-s3cret';
const BASIC = Buffer.from(`egress:${PASSWORD}`).toString('base64');

/** A whole run behind a mandatory egress proxy: a real forward proxy on 127.0.0.1, the mockserver behind it. */
describe('a sweep behind an egress proxy (HTTP_PROXY)', () => {
  const testbed = useTestbed();
  let proxy: ForwardProxy | undefined;
  afterEach(async () => { await proxy?.close(); proxy = undefined; });

  const sweep = (env: Record<string, string>) => runSweep([delayNotifications.job, ...delayNotifications.args],
    { database: testbed.database, servicesUrl: testbed.mock.url, env });

  it('fetches its tokens and sends through the proxy, says so at the start, and never logs its password', async () => {
    proxy = await startForwardProxy();
    const expected = await delayNotifications.seed(testbed.database.db, 4, 2);
    const run = await sweep({ HTTP_PROXY: `http://egress:${PASSWORD}@127.0.0.1:${proxy.port}` });

    expect(run.exitCode).toBe(0);
    expect(run.summary).toMatchObject({ sent: expected.length });
    expect(run.logs.map((line) => line.msg)).toContain(`the auth and notify services are reached through the proxy http://egress:***@127.0.0.1:${proxy.port} (HTTP_PROXY)`);
    const paths = proxy.journal.map((entry) => new URL(entry.target).pathname);
    expect(paths.filter((path) => path.startsWith('/notify'))).toHaveLength(expected.length);
    expect(paths.filter((path) => path.startsWith('/auth'))).toHaveLength(2);
    expect(new Set(proxy.journal.map((entry) => entry.authorization))).toEqual(new Set([`Basic ${BASIC}`]));
    expect(run.output + run.stderr).not.toContain(PASSWORD);
    expect(run.output + run.stderr).not.toContain(BASIC);
  });

  it('goes straight to the services NO_PROXY names', async () => {
    proxy = await startForwardProxy();
    await delayNotifications.seed(testbed.database.db, 2, 1);
    const run = await sweep({ http_proxy: `http://127.0.0.1:${proxy.port}`, no_proxy: '127.0.0.1' });

    expect(run.exitCode).toBe(0);
    expect(proxy.journal).toEqual([]);
    expect(run.logs.map((line) => line.msg)).toContain('the auth and notify services are reached directly: NO_PROXY names 127.0.0.1 (http_proxy is set)');
  });

  it('a proxy that cannot be reached: exit 75, the error naming the proxy, nothing sent', async () => {
    const closed = await startForwardProxy();
    await closed.close();
    await delayNotifications.seed(testbed.database.db, 3, 1);
    const run = await sweep({ HTTP_PROXY: `http://egress:${PASSWORD}@127.0.0.1:${closed.port}` });

    expect(run.exitCode).toBe(75);
    expect(run.summary).toMatchObject({ sent: 0 });
    const named = run.logs.filter((line) => line.level !== 'debug' && JSON.stringify(line).includes(`through the proxy http://egress:***@127.0.0.1:${closed.port}, HTTP_PROXY`));
    expect(named.length).toBeGreaterThan(0);
    expect(run.output + run.stderr).not.toContain(PASSWORD);
  });

  it('a malformed proxy variable is a configuration error: exit 64, one line', async () => {
    const run = await sweep({ HTTPS_PROXY: `socks5://egress:${PASSWORD}@127.0.0.1:1080` });
    expect(run.exitCode).toBe(64);
    expect(run.logs.filter((line) => line.level === 'error').map((line) => line.msg)).toEqual([
      'invalid configuration: HTTPS_PROXY must be an http:// proxy (got \'socks5://egress:***@127.0.0.1:1080\'): sweep speaks to its proxy in plain HTTP, and TLS to the service through CONNECT',
    ]);
    expect(run.output + run.stderr).not.toContain(PASSWORD);
  });
});
