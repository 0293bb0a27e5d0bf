import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { registerSecret } from '../../src/logging/secret-registry.js';

function capture(format: 'json' | 'pretty') {
  const stream = new PassThrough();
  let output = '';
  stream.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  return { logger: createLogger({ level: 'trace', format, destination: stream, colorize: false }), output: () => output };
}

it('redacts credentials wherever a context object carries them', () => {
  const { logger, output } = capture('json');
  logger.info({
    authorization: 'Bearer top-1', token: 'top-2', accessToken: 'top-3', clientSecret: 'top-4',
    request: { headers: { authorization: 'Bearer top-5' }, access_token: 'top-6' },
    err: { message: 'boom', config: { headers: { Authorization: 'Bearer top-7' } } },
  }, 'something happened');
  const line = JSON.parse(output()) as Record<string, unknown>;
  expect(output()).not.toMatch(/top-\d/);
  expect(line).toMatchObject({ authorization: '[redacted]', token: '[redacted]', msg: 'something happened' });
});

it('writes one JSON event a line with an ISO time and the level as a word', () => {
  const { logger, output } = capture('json');
  logger.warn({ workspaceId: 'w1' }, 'first');
  logger.error('second');
  const lines = output().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: 'warn', workspaceId: 'w1', msg: 'first' });
  expect(String(lines[1]!.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
});

it('redacts in pretty output too', () => {
  const { logger, output } = capture('pretty');
  logger.info({ token: 'top-secret-8' }, 'pretty line');
  expect(output()).toContain('pretty line');
  expect(output()).not.toContain('top-secret-8');
});

it('removes every registered secret value from a line, wherever it stands, in both formats', () => {
  registerSecret('reg1stered-s3cret-value');
  for (const format of ['json', 'pretty'] as const) {
    const { logger, output } = capture(format);
    logger.child({ job: 'x' }).warn({ reason: 'service said: reg1stered-s3cret-value is wrong', nested: { text: 'xreg1stered-s3cret-valuex' } },
      'echo reg1stered-s3cret-value');
    expect(output()).toContain('[redacted]');
    expect(output()).not.toContain('reg1stered-s3cret-value');
  }
});

it('leaves no listener on its destination, however many runs in one process log to it (the demo runs three)', () => {
  const stream = new PassThrough();
  let output = '';
  stream.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const listenersBefore = stream.eventNames().map((name) => stream.listenerCount(name));
  for (let run = 1; run <= 12; run += 1) {
    createLogger({ level: 'info', format: 'pretty', destination: stream, colorize: false }).info({ run }, `run ${run}`);
  }
  expect(stream.eventNames().map((name) => stream.listenerCount(name))).toEqual(listenersBefore);
  expect(output.trim().split('\n')).toHaveLength(12);
  expect(output).toMatch(/INFO: run 12 \{"run":12\}/);
});
