import { hostname, userInfo } from 'node:os';

/** Who is at the keyboard, as the operator commands record it unless --by says otherwise. */
export function operator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}
