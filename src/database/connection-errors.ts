import { SweepError } from '../runner/errors.js';
import { ExitCode } from '../runner/exit-codes.js';

/**
 * The connection failures a retry would meet again: the database refused who we are or
 * what we asked for. Configuration errors, exit 64, so a CronJob fails at once instead of
 * retrying for hours; a database that is unreachable or restarting is not among them.
 */
const CONFIGURATION_CODES: Readonly<Record<string, string>> = {
  // invalid_password: a wrong password, or a password where the server wants another method.
  '28P01': 'check the user and password in DATABASE_URL',
  // invalid_authorization_specification: an unknown role, no pg_hba.conf entry, a role without LOGIN.
  '28000': 'check the user in DATABASE_URL, and that pg_hba.conf lets it in from here',
  // invalid_catalog_name: the database does not exist.
  '3D000': 'check the database name in DATABASE_URL',
};

/** pg's own error when the server answers an SSLRequest with no (sslmode=require and stricter). */
const TLS_REFUSED = /server does not support SSL connections/i;
/** Node's codes for a server certificate that does not verify (sslmode=verify-ca / verify-full, or an sslrootcert). */
const CERTIFICATE_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** What to do about a connection error that is a configuration error; undefined for any other. */
export function configurationAdvice(error: unknown): string | undefined {
  const e = error as { code?: string; message?: string };
  if (e?.code && CONFIGURATION_CODES[e.code]) return CONFIGURATION_CODES[e.code];
  if (TLS_REFUSED.test(e?.message ?? '')) return 'the server refused TLS: enable ssl on it, or drop sslmode from DATABASE_URL';
  if (e?.code && CERTIFICATE_CODES.has(e.code)) {
    return 'the server\'s certificate does not verify: give its CA in DATABASE_URL (sslrootcert=…), or fix the certificate';
  }
  return undefined;
}

/** The database refused the configured connection: one line, exit 64. */
export class DatabaseConfigurationError extends SweepError {
  constructor(message: string, context: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, ExitCode.USAGE, context, options);
  }
}
