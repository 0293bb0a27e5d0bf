/**
 * The secret values this process knows: the configured ones (the client secret, its
 * Basic form, every URL password) and every token it was issued. The logger removes
 * them from every line it writes, the error texts built from a service's answer and
 * everything stored in the database are cleaned of them: a service that echoes a
 * credential back, with or without `Bearer` before it, cannot get it into our logs or
 * our tables. Patterns (`Bearer …`) still catch what was never registered here.
 *
 * Found by value, in one pass over the text whatever the number of values: each is
 * indexed by its last 4 characters, so a line costs one map lookup per character.
 */

const CENSOR = '[redacted]';
/** Shorter values are not registered: removing every "abc" would take the log apart, and they are no secret anyway. */
const MIN_LENGTH = 4;
const KEY_LENGTH = MIN_LENGTH;
/** Issued tokens kept at most, the oldest forgotten first: about two of the token cache's workspaces. */
const MAX_ISSUED = 20_000;

const byEnding = new Map<number, Set<string>>();
const configured = new Set<string>();
const issued = new Set<string>();

export interface RegisterOptions {
  /** A token: forgotten once MAX_ISSUED newer ones are known. Configured values are kept for the process's life. */
  issued?: boolean;
}

/** Registers a value (and the form it takes inside a JSON string) to be removed from every log line and stored text. */
export function registerSecret(value: string | undefined, options: RegisterOptions = {}): void {
  if (value === undefined || value.length < MIN_LENGTH) return;
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  for (const form of forms) {
    if (options.issued) {
      if (configured.has(form)) continue;
      issued.delete(form);
      issued.add(form);
      if (issued.size > MAX_ISSUED) forget(issued.values().next().value as string);
    } else {
      configured.add(form);
      issued.delete(form);
    }
    index(form);
  }
}

/** `text` with every registered value replaced by [redacted]. */
export function redactSecrets(text: string): string {
  if (byEnding.size === 0 || text.length < MIN_LENGTH) return text;
  let ranges: Array<[number, number]> | undefined;
  for (let end = KEY_LENGTH; end <= text.length; end += 1) {
    const candidates = byEnding.get(endingKey(text, end));
    if (candidates === undefined) continue;
    for (const secret of candidates) {
      const start = end - secret.length;
      if (start >= 0 && text.startsWith(secret, start)) (ranges ??= []).push([start, end]);
    }
  }
  if (ranges === undefined) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let result = '';
  let cursor = 0;
  for (let i = 0; i < ranges.length;) {
    const [start] = ranges[i] as [number, number];
    let end = (ranges[i] as [number, number])[1];
    // Overlapping or touching matches become one [redacted].
    for (i += 1; i < ranges.length && (ranges[i] as [number, number])[0] <= end; i += 1) end = Math.max(end, (ranges[i] as [number, number])[1]);
    result += `${text.slice(cursor, Math.max(cursor, start))}${CENSOR}`;
    cursor = Math.max(cursor, end);
  }
  return result + text.slice(cursor);
}

function index(form: string): void {
  const key = endingKey(form, form.length);
  let bucket = byEnding.get(key);
  if (bucket === undefined) byEnding.set(key, (bucket = new Set()));
  bucket.add(form);
}

function forget(form: string): void {
  issued.delete(form);
  const key = endingKey(form, form.length);
  const bucket = byEnding.get(key);
  bucket?.delete(form);
  if (bucket?.size === 0) byEnding.delete(key);
}

/** A hash of the KEY_LENGTH characters before `end`; collisions only cost a comparison. */
function endingKey(text: string, end: number): number {
  let hash = 0;
  for (let i = end - KEY_LENGTH; i < end; i += 1) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}
