import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteOptions } from 'fastify';
import { createAuthenticator } from '../../src/console/console-auth.js';
import { buildConsoleServer } from '../../src/console/console-server.js';
import { notificationJobs } from '../../src/jobs.js';
import { createLogger } from '../../src/logging/logger.js';
import { call, startTestConsole, VIEWER, type TestConsole } from '../support/console-server.js';
import { useTestDatabase } from '../support/testbed.js';

/** The OpenAPI document is valid 3.1 and names every route the server has, with its errors. */
describe('the console\'s OpenAPI document', () => {
  const testbed = useTestDatabase([]);
  let server: TestConsole;
  const routes: Array<{ method: string; url: string }> = [];
  beforeAll(async () => {
    server = await startTestConsole(testbed.database.db);
  });
  afterAll(async () => { await server?.close(); });

  it('validates as OpenAPI 3.1', async () => {
    const document = (await call(`${server.url}/api/openapi.json`, VIEWER.token)).body;
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('serves the reference page to a viewer, from the process alone: its CSP names no other host', async () => {
    const page = await call(`${server.url}/api/docs/`, VIEWER.token);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https:|http:|swagger\.io|upgrade-insecure-requests/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect((await call(`${server.url}/api/docs/static/swagger-ui.css`, VIEWER.token)).status).toBe(200);
    expect((await call(`${server.url}/api/docs/json`, VIEWER.token)).status).toBe(200);
    expect((await call(`${server.url}/api/docs/`, undefined)).status).toBe(401);
  });

  it('has every route the server serves, but the reference page\'s own assets', async () => {
    // fastify's onRoute hook sees every route as it is added: build a second server to watch it.
    const watched = await buildConsoleServer({ db: testbed.database.db, jobs: notificationJobs,
      logger: createLogger({ level: 'silent', format: 'json' }), auth: createAuthenticator([]), onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url! });
      } });
    await watched.ready();
    const document = watched.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    await watched.close();

    const served = routes.filter((route) => route.method !== 'HEAD' && !route.url.startsWith('/api/docs'));
    expect(served.length).toBeGreaterThan(20);
    const missing = served.filter((route) => !document.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()]);
    expect(missing).toEqual([]);
    // Every API route documents its errors: 401 for all, 400/403/404 where they can happen.
    for (const [path, operations] of Object.entries(document.paths).filter(([path]) => path.startsWith('/api/v1'))) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toContain('401');
        if (method === 'post') expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '403']));
      }
    }
  });
});
