import type { Knex } from 'knex';
import type { RouteOptions } from 'fastify';
import type { Logger } from '../logging/logger.js';
import type { AnyNotificationJob } from '../sweep/notification-job.js';
import type { Authenticator, ConsoleSession, Principal } from './console-auth.js';
import type { JobRunner } from './job-runner.js';
import type { RearmPreviews } from './rearm-previews.js';

/** Who may call a route: anyone (health), any signed-in principal, or operators only. */
export type Access = 'public' | 'viewer' | 'operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Operators only unless a route says otherwise: a route that forgets is closed, not open. */
    access?: Access;
    /** An HTML page or form: an anonymous visitor is sent to /login, a form must carry the session's CSRF token. */
    page?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** Set when the principal came from the session cookie rather than a Bearer token. */
    session?: ConsoleSession;
  }
}

export const SESSION_COOKIE = 'sweep_session';

export interface ConsoleDependencies {
  db: Knex;
  jobs: AnyNotificationJob[];
  /** SWEEP_DEFAULT_TIME_ZONE: the zone of a workspace with none of its own, for the local time a delivery fell due; default UTC. */
  defaultTimeZone?: string;
  logger: Logger;
  auth: Authenticator;
  /** Whose X-Forwarded-For to believe for the client's address (SWEEP_CONSOLE_TRUST_PROXY); default none. */
  trustProxy?: false | number | string[];
  /** Runs a job in the console's process: on the embedded database only, where no other process may open it. */
  jobRunner?: JobRunner;
  /** SWEEP_TRACE_URL: a run's trace id becomes a link to the trace UI. */
  traceUrl?: string;
  /** Sees every route as it is added (fastify's onRoute hook): the OpenAPI test checks each is documented. */
  onRoute?: (route: RouteOptions) => void;
}

/** What the API's and the pages' routes are given: the server's dependencies and the re-arm previews they share. */
export interface RouteDependencies extends ConsoleDependencies {
  previews: RearmPreviews;
}
