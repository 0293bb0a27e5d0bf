import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../src/http/service-error.js';
import { MAX_KEY_LENGTH, MAX_MESSAGE_LENGTH } from '../../src/sweep/notification-contract.js';
import { jobs } from '../../src/jobs.js';

const page = readFileSync(new URL('../../docs/services-contract.md', import.meta.url), 'utf8');
const answers = page.split('## The answers')[1]!;
const rowOf = (meaning: string) => answers.split('\n').find((line) => line.includes(`| ${meaning} |`))!;
const statusesIn = (row: string) => [...row.split('|')[1]!.matchAll(/\b([1-5]\d\d)\b/g)].map((match) => Number(match[1]));

/** docs/services-contract.md against the code that implements it. */
describe('the services contract page', () => {
  it.each([
    ['accepted', 'ok'],
    ['this Idempotency-Key was already accepted earlier', 'conflict'],
    ['token expired or revoked', 'unauthorized'],
    ['token not valid for this workspace', 'permanent'],
    ['the request is wrong', 'permanent'],
    ['slow down', 'transient'],
  ] as const)('every status of the row "%s" is classified %s', (meaning, expected) => {
    const statuses = statusesIn(rowOf(meaning));
    expect(statuses.length).toBeGreaterThan(0);
    for (const status of statuses) expect({ status, kind: classifyStatus(status) }).toEqual({ status, kind: expected });
  });

  it('states the limits sweep enforces before sending', () => {
    expect(page).toContain(`the text at most ${MAX_MESSAGE_LENGTH.toLocaleString('en-US')} characters`);
    expect(page).toContain(`\`Idempotency-Key\`: at most ${MAX_KEY_LENGTH} characters`);
  });

  it('names every notification job sweep has, with its key prefix', () => {
    const named = [...page.matchAll(/^\| `(send-[a-z-]+)` \| .* \| `\1:/gm)].map((match) => match[1]);
    const notificationJobs = jobs.map((job) => job.name).filter((name) => name.startsWith('send-'));
    expect(named.sort()).toEqual(notificationJobs.sort());
  });
});
