/**
 * The parts of a configured URL that are secret, and the URL as logs and messages may
 * show it. A password sits in the userinfo (`user:password@`) or in a query parameter
 * (`?password=`, as libpq and pg accept); a value without a scheme may be anything,
 * a password pasted in the wrong place included.
 */

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** Query parameters that carry a secret: password, sslpassword, token, client_secret... */
const SECRET_PARAM = /(?:pass|secret|token)/i;
const PARAM = /([?&])([^=&#]*)=([^&#]*)/g;

/** A URL fit for logs and messages: its password, and secret query parameters, replaced by ***. */
export function redactUrl(raw: string): string {
  const parts = splitAuthority(raw);
  const redacted = parts === undefined ? hideUpToLastAt(raw)
    : parts.password === undefined ? raw : `${parts.beforePassword}***${parts.afterPassword}`;
  return redacted.replace(PARAM, (whole, separator: string, name: string) => (SECRET_PARAM.test(name) ? `${separator}${name}=***` : whole));
}

/** The secret parts of a URL as they may appear in text: as written, decoded, and as a Basic credential. */
export function secretsOfUrl(raw: string): string[] {
  const secrets: string[] = [];
  const parts = splitAuthority(raw);
  const password = parts?.password;
  if (password) {
    const user = decode(parts.beforePassword.slice(parts.beforePassword.indexOf('//') + 2, -1));
    // The header an HTTP client makes of user:password@, which a server may echo back.
    secrets.push(password, decode(password), Buffer.from(`${user}:${decode(password)}`).toString('base64'));
  }
  for (const [, , name, value] of raw.matchAll(PARAM)) {
    if (name !== undefined && value && SECRET_PARAM.test(name)) secrets.push(value, decode(value.replace(/\+/g, ' ')));
  }
  return [...new Set(secrets)];
}

/**
 * What a configuration message may repeat of a rejected URL: the URL with its secrets
 * hidden when it has a scheme; nothing when it has none, since it may be all secret.
 */
export function describeRejectedUrl(raw: string): string {
  return SCHEME.test(raw) ? `got '${redactUrl(raw)}'` : 'got a value without a scheme; not shown, as it may hold a password';
}

export function hasCredentials(raw: string): boolean {
  const url = tryUrl(raw);
  return url !== undefined && (url.username !== '' || url.password !== '');
}

export function tryUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/**
 * The URL around its password, as written (no re-encoding): `scheme://user:` + password +
 * `@host...`. Undefined when the text is no URL with an authority that WHATWG and we read
 * alike: unparseable, without a scheme, or with an `@` that is not the userinfo's (a
 * password with an unencoded / makes the rest a path).
 */
function splitAuthority(raw: string): { beforePassword: string; password?: string; afterPassword: string } | undefined {
  const url = tryUrl(raw);
  const scheme = SCHEME.exec(raw)?.[0];
  if (!url || !scheme) return undefined;
  const rest = raw.slice(scheme.length);
  const end = rest.search(/[/?#\\]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at < 0) return raw.includes('@') && url.password === '' && url.username === '' ? undefined : { beforePassword: raw, afterPassword: '' };
  const colon = authority.slice(0, at).indexOf(':');
  if (colon < 0) return { beforePassword: raw, afterPassword: '' };
  return {
    beforePassword: scheme + authority.slice(0, colon + 1),
    password: authority.slice(colon + 1, at),
    afterPassword: rest.slice(at),
  };
}

/** Whatever precedes the last @ may be user:password. */
function hideUpToLastAt(raw: string): string {
  const at = raw.lastIndexOf('@');
  if (at < 0) return raw;
  return raw.includes('//') ? raw.replace(/\/\/.*@/, '//***@') : `***${raw.slice(at)}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
