import type { MockRule, MockSettings } from './mock-server.type.js';

export const defaultMockSettings: Readonly<MockSettings> = Object.freeze({
  clientId: 'sweep-local',
  clientSecret: 'sweep-local-secret',
  tokenTtlSeconds: 300,
  tokenLatencyMs: 0,
  latencyMs: 0,
  error5xxRate: 0,
  rateLimitRate: 0,
  retryAfterSeconds: 1,
  dropRate: 0,
  slowRate: 0,
  slowMs: 30_000,
  seed: 1,
  rules: [],
  journal: true,
  todoWorkspaces: {},
});

/** Settings that cannot be applied; `problems` names each bad setting. */
export class MockSettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid mock settings: ${problems.join('; ')}`);
    this.name = 'MockSettingsError';
  }
}

/** Returns the problems of one value; `name` is its path for the message. */
type Check = (value: unknown, name: string) => string[];

const requireThat =
  (test: (value: unknown) => boolean, expectation: string): Check =>
  (value, name) =>
    test(value) ? [] : [`${name} must be ${expectation} (got ${JSON.stringify(value)})`];

const isNonNegative = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

const nonNegative = requireThat(isNonNegative, 'a number >= 0');
const nonNegativeInteger = requireThat((v) => Number.isInteger(v) && (v as number) >= 0, 'an integer >= 0');
const rate = requireThat((v) => isNonNegative(v) && v <= 1, 'a number from 0 to 1');
const nonEmptyString = requireThat((v) => typeof v === 'string' && v !== '', 'a non-empty string');
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const checks: { [K in keyof MockSettings]: Check } = {
  // HTTP Basic cannot carry a colon in the user id.
  clientId: requireThat((v) => typeof v === 'string' && v !== '' && !v.includes(':'), 'a non-empty string without ":"'),
  clientSecret: nonEmptyString,
  tokenTtlSeconds: requireThat((v) => v === null || isNonNegative(v), 'null or a number >= 0'),
  tokenLatencyMs: nonNegative,
  latencyMs: nonNegative,
  error5xxRate: rate,
  rateLimitRate: rate,
  retryAfterSeconds: nonNegativeInteger,
  dropRate: rate,
  slowRate: rate,
  slowMs: nonNegative,
  seed: requireThat(Number.isInteger, 'an integer'),
  rules: (value, name) =>
    Array.isArray(value)
      ? value.flatMap((rule, index) => checkRule(rule, `${name}[${index}]`))
      : [`${name} must be an array of rules`],
  journal: requireThat((v) => typeof v === 'boolean', 'true or false'),
  todoWorkspaces: requireThat(
    (v) => isPlainObject(v) && Object.values(v).every((w) => typeof w === 'string'),
    'an object of todoId to workspaceId strings',
  ),
};

const ruleFields: { [K in keyof MockRule]-?: Check } = {
  endpoint: requireThat((v) => v === 'token' || v === 'notify', '"token" or "notify"'),
  match: requireThat(
    (v) =>
      isPlainObject(v) &&
      Object.entries(v).every(([k, w]) => ['key', 'todoId', 'workspaceId'].includes(k) && typeof w === 'string'),
    'an object with string key, todoId or workspaceId',
  ),
  status: requireThat(
    (v) => Number.isInteger(v) && (v as number) >= 200 && (v as number) <= 599,
    'an integer from 200 to 599',
  ),
  body: () => [],
  headers: requireThat(
    (v) => isPlainObject(v) && Object.values(v).every((h) => typeof h === 'string'),
    'an object of strings',
  ),
  drop: requireThat((v) => typeof v === 'boolean', 'true or false'),
  delayMs: nonNegative,
  times: requireThat((v) => Number.isInteger(v) && (v as number) >= 1, 'an integer >= 1'),
};

function checkRule(rule: unknown, name: string): string[] {
  if (!isPlainObject(rule)) return [`${name} must be an object`];
  const problems = checkFields(rule, ruleFields, name);
  if (!('endpoint' in rule)) problems.push(`${name}.endpoint is required`);
  if (rule.status !== undefined && rule.drop === true) problems.push(`${name} cannot both answer a status and drop`);
  if (rule.status === undefined && rule.drop !== true && rule.delayMs === undefined) {
    problems.push(`${name} needs status, drop or delayMs`);
  }
  return problems;
}

function checkFields(input: Record<string, unknown>, fields: Record<string, Check>, prefix: string): string[] {
  return Object.entries(input).flatMap(([key, value]) => {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    const check = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (check === undefined) return [`${name} is unknown`];
    return value === undefined ? [] : check(value, name);
  });
}

/**
 * Validates settings given in code or as the JSON body of PUT /_mock/settings and returns
 * a copy that later changes by the caller cannot reach. Undefined values are left out.
 * Throws MockSettingsError listing every problem at once.
 */
export function parseSettingsPatch(input: unknown): Partial<MockSettings> {
  if (!isPlainObject(input)) throw new MockSettingsError(['settings must be an object']);
  const problems = checkFields(input, checks, '');
  if (problems.length > 0) throw new MockSettingsError(problems);
  const defined = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  return structuredClone(defined) as Partial<MockSettings>;
}
