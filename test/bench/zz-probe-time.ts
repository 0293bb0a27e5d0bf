import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChildren } from './child-processes.js';
import { consoleRequests, formatConsoleTable, peakRssMb, startConsoleProcess, timeConsoleRequests } from './measure-console.js';
const sample = JSON.parse(process.argv[2]!).sample;
const only = process.argv[3];
const server = await startConsoleProcess({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/sweep_console_probe', build: 'tsx',
  nodeFlags: ['--max-old-space-size=256'], logDir: mkdtempSync(join(tmpdir(), 'probe-')) });
const requests = consoleRequests(sample).filter((r) => !only || r.name.includes(only));
console.log(formatConsoleTable(await timeConsoleRequests(server, requests, 10)));
console.log('rss', peakRssMb(server.child.pid));
await stopChildren();
