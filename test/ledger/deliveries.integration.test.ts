import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryLedger, type DeliveryLedger } from '../../src/ledger/deliveries.js';
import { beat } from '../../src/ledger/run-heartbeat.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const JOB = 'send-delay-notifications';

describe('delivery ledger: recording outcomes', () => {
  let database: TestDatabase;
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(() => database?.destroy());
  beforeEach(async () => { for (const table of ['deliveries', 'job_runs']) await database.db(table).del(); });

  const ledgerFor = (runId: string, maxAttempts = 3): DeliveryLedger => createDeliveryLedger(database.db, {
    job: JOB, runId, leaseMs: 60_000, maxAttempts, retryBackoffMs: 1000, retryBackoffMaxMs: 60_000,
  });
  const item = (name: string) => ({ key: `${JOB}:${name}`, workspaceId: randomUUID(), itemId: name, itemDate: '2022-01-01', message: `Todo ${name} is delayed` });
  const row = (name: string) => database.db('deliveries').where({ key: `${JOB}:${name}` }).first();

  it('writes each outcome of its own claims, and sends back only the deliveries not sent', async () => {
    const ledger = ledgerFor(randomUUID());
    await ledger.claim(['sent', 'seen-before', 'refused', 'flaky', 'untried'].map(item));

    const recorded = await ledger.record([
      { key: `${JOB}:sent`, result: 'sent', httpStatus: 201 },
      { key: `${JOB}:seen-before`, result: 'sent', httpStatus: 409 },
      { key: `${JOB}:refused`, result: 'failed', httpStatus: 400, error: 'bad request' },
      { key: `${JOB}:flaky`, result: 'retry', httpStatus: 503, error: 'unavailable' },
      { key: `${JOB}:untried`, result: 'released', error: 'no token' },
    ]);

    expect(recorded.written).toBe(5);
    expect(recorded.notSent.map((delivery) => [delivery.key, delivery.status, delivery.attempts]).sort()).toEqual([
      [`${JOB}:flaky`, 'retry', 1], [`${JOB}:refused`, 'failed', 1], [`${JOB}:untried`, 'retry', 0],
    ]);
    expect(await row('sent')).toMatchObject({ status: 'sent', attempts: 1, last_status: 201, lease_expires_at: null });
    expect((await row('sent')).sent_at).not.toBeNull();
    expect(await row('seen-before')).toMatchObject({ status: 'sent', attempts: 1, last_status: 409 });
    expect((await row('flaky')).next_attempt_at).not.toBeNull();
    expect((await row('untried')).next_attempt_at).toBeNull();
  });

  it('marks a delivery dead once a transient failure has used its last attempt', async () => {
    const ledger = ledgerFor(randomUUID(), 1);
    await ledger.claim([item('last-try')]);

    const recorded = await ledger.record([{ key: `${JOB}:last-try`, result: 'retry', httpStatus: 503, error: 'unavailable' }]);

    expect(recorded.notSent).toMatchObject([{ key: `${JOB}:last-try`, status: 'dead', attempts: 1 }]);
  });

  it('writes a sent outcome for a claim another run has taken over, and no other outcome', async () => {
    const slow = ledgerFor(randomUUID());
    await slow.claim(['answered', 'failed-late'].map(item));
    // The slow run's lease expires, and another run takes both claims over.
    await database.db('deliveries').update({ lease_expires_at: database.db.raw(`now() - interval '1 second'`) });
    const takeover = randomUUID();
    expect((await ledgerFor(takeover).claim(['answered', 'failed-late'].map(item))).size).toBe(2);

    const recorded = await slow.record([
      { key: `${JOB}:answered`, result: 'sent', httpStatus: 201 },
      { key: `${JOB}:failed-late`, result: 'retry', httpStatus: 503, error: 'unavailable' },
    ]);

    expect(recorded.written).toBe(1);
    expect(await row('answered')).toMatchObject({ status: 'sent', last_status: 201 });
    expect(await row('failed-late')).toMatchObject({ status: 'pending', run_id: takeover, attempts: 0 });
  });

  it('takes over a claim only once its run has stopped beating, however old the claim itself is', async () => {
    const live = randomUUID();
    const dead = randomUUID();
    for (const id of [live, dead]) await database.db('job_runs').insert({ id, job: JOB, status: 'running', parameters: '{}' });
    await beat(database.db, live, 60_000);
    await beat(database.db, dead, 60_000);
    await ledgerFor(live).claim([item('held-by-live')]);
    await ledgerFor(dead).claim([item('held-by-dead')]);
    // Both claims' own leases lapsed (a renewal stuck behind other runs' statements, say);
    // only the dead run's heartbeat stopped, a minute ago.
    await database.db('deliveries').update({ lease_expires_at: database.db.raw(`now() - interval '1 minute'`) });
    await database.db('job_runs').where({ id: dead }).update({ lease_expires_at: database.db.raw(`now() - interval '1 minute'`) });

    const claimed = await ledgerFor(randomUUID()).claim([item('held-by-live'), item('held-by-dead')]);

    expect([...claimed]).toEqual([`${JOB}:held-by-dead`]);
    expect(await row('held-by-live')).toMatchObject({ status: 'pending', run_id: live });
  });
});
