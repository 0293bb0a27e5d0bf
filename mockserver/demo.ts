import { runCli } from '../src/cli.js';
import { describeDatabase, getConfig } from '../src/configuration/config.js';
import { withEnvFile } from '../src/configuration/env-file.js';
import { startMockServer } from './mock-server.js';

/**
 * `npm run demo`: the whole loop on one machine with nothing installed. Starts the
 * mockserver on a free port, then runs `sweep migrate`, `sweep seed` and
 * `sweep send-delay-notifications` against it, as a scheduler would run them, and
 * shows what the notify service received. A second demo sends nothing: the ledger
 * in the database remembers what was sent.
 */
const out = (line = '') => process.stderr.write(`${line}\n`);
const mock = await startMockServer({ port: 0 });
// Pretty logs unless asked otherwise: the demo is read by a person.
const env = { LOG_FORMAT: 'pretty', ...withEnvFile(process.env, process.cwd()), SERVICES_URL: mock.url };
const io = { env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr };

let exitCode = 0;
try {
  const config = getConfig(env, { stdoutIsTTY: Boolean(process.stdout.isTTY), cwd: process.cwd() });
  out(`sweep demo: database ${describeDatabase(config.database)}; mockserver at ${mock.url}`);
  let failed: string | undefined;
  for (const args of [['migrate'], ['seed'], ['send-delay-notifications']]) {
    out(`\n$ sweep ${args.join(' ')}`);
    exitCode = await runCli(args, io);
    if (exitCode !== 0) {
      failed = `sweep ${args.join(' ')}`;
      break;
    }
  }
  const journal = mock.journal();
  const tokens = journal.filter((entry) => entry.endpoint === 'token');
  const notifications = journal.filter((entry) => entry.endpoint === 'notify');
  if (failed !== undefined) {
    out(`\nThe demo stopped: \`${failed}\` exited ${exitCode}; the lines above say why.`);
    if (config.database.kind === 'embedded') {
      out('If a `sweep console` or another sweep has the embedded database open, stop it and run `npm run demo` again '
        + '(or run the job from the console\'s jobs page: "run now").');
    }
  }
  // Only what happened: no run, no claim about earlier ones.
  if (failed === undefined || notifications.length > 0) {
    out(`\nThe notify service received ${tokens.length} token request(s) (one per workspace: `
      + `${[...new Set(tokens.map((entry) => entry.workspaceId))].join(', ') || 'none'}) `
      + `and ${notifications.length} notification(s):`);
    for (const entry of notifications) out(`  ${entry.status} ${entry.key} (token of workspace ${entry.workspaceId})`);
  }
  if (failed === undefined && notifications.length === 0) out('  none: every delayed todo was notified by an earlier run. Run `npm run demo` again after `rm -rf .data` to start over.');
} catch (error) {
  out(`demo failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await mock.close();
}
process.exitCode = exitCode;
