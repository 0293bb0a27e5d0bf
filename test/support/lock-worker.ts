import { lockDataDir } from '../../src/database/data-dir-lock.js';

/**
 * A process that contends for an embedded data directory's lock when its parent says
 * `try`, answers whether it won, and gives the lock back on `release`
 * (test/database/data-dir-lock.integration.test.ts).
 */
const dataDir = process.argv[2]!;
let release: (() => void) | undefined;
process.on('message', (message: { op: 'try' | 'release'; round: number }) => {
  if (message.op === 'release') {
    release?.();
    release = undefined;
    process.send!({ round: message.round, released: true });
    return;
  }
  lockDataDir(dataDir).then(
    (given) => { release = given; process.send!({ round: message.round, won: true }); },
    (error: Error) => process.send!({ round: message.round, won: false, reason: error.message }),
  );
});
process.send!({ ready: true });
