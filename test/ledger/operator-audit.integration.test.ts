import { describe, expect, it } from 'vitest';
import { insertOwedDeliveries } from '../support/delivery-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestDatabase } from '../support/testbed.js';

const SEND = 'send-delay-notifications';

/** The CLI's operator commands leave the same audit rows as the console: one code path. */
describe('the audit of the CLI\'s operator commands', () => {
  const testbed = useTestDatabase(['deliveries', 'job_runs', 'job_pauses', 'todos', 'console_audit']);
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database });
  const audit = () => db()('console_audit').orderBy('id');

  it('records a pause and a resume with who, why and the source', async () => {
    expect((await sweep(['pause', SEND, '--reason', 'wrong text, INC-1', '--by', 'alice@ops'])).exitCode).toBe(0);
    expect((await sweep(['resume', SEND, '--by', 'bob@ops', '--reason', 'fixed'])).exitCode).toBe(0);

    const rows = await audit();
    expect(rows).toMatchObject([
      { actor: 'alice@ops', source: 'cli', action: 'pause', job: SEND, reason: 'wrong text, INC-1', deliveries_touched: 0 },
      { actor: 'bob@ops', source: 'cli', action: 'resume', job: SEND, reason: 'fixed', details: { wasPausedBy: 'alice@ops' } },
    ]);
    expect(rows[0].at).toBeInstanceOf(Date);
  });

  it('records a deliveries retry with how many deliveries it re-armed', async () => {
    await insertOwedDeliveries(db(), 3);

    const retry = await sweep(['deliveries', 'retry', '--status', 'dead', '--by', 'carol@ops', '--reason', 'service fixed']);

    expect(retry.exitCode).toBe(0);
    expect(await audit()).toMatchObject([{
      actor: 'carol@ops', source: 'cli', action: 'rearm', reason: 'service fixed', deliveries_touched: 3,
      details: { filter: { statuses: ['dead'] }, force: false, notStanding: 0 },
    }]);
  });
});
