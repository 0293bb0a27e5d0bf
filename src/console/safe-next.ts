const BASE = 'http://console.invalid';

/**
 * Where a sign-in may send a person: a path of this console, or /jobs. A browser drops a
 * tab or a newline inside a URL and reads a backslash as a slash, so `/\t/evil.example`
 * and `/\evil.example` mean another site: any of them, any control character, or a
 * leading `//` gives /jobs. What is kept is the path as a URL parser reads it, encoded to
 * ASCII, so the Location header can always be written.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || /[\\\p{Cc}\p{Cf}\s]/u.test(next)) return '/jobs';
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return '/jobs';
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return '/jobs';
  return `${url.pathname}${url.search}${url.hash}`;
}
