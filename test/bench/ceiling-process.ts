/**
 * The ceiling as its own process, cold like every runner: `node [flags] --import tsx
 * test/bench/ceiling-process.ts` with DATABASE_URL, SERVICES_URL, CONCURRENCY and PAGE_SIZE. It
 * reads the todos first (not timed), sends them with measureCeiling, and prints its
 * CeilingResult as one JSON line. (Measured inside the bench process, the ceiling got
 * faster with each repeat as the JIT warmed up, while every runner starts cold.)
 */
import { createDatabase } from '../../src/database/database.js';
import { measureCeiling } from './ceiling.js';
import { readTodos } from './load-todos.js';

const { DATABASE_URL: url, SERVICES_URL: servicesUrl, CONCURRENCY: concurrency, PAGE_SIZE: pageSize } = process.env;
if (!url || !servicesUrl || !concurrency || !pageSize) throw new Error('ceiling-process needs DATABASE_URL, SERVICES_URL, CONCURRENCY and PAGE_SIZE');

const db = createDatabase({ kind: 'postgres', url }, { poolMax: 1 });
const todos = await readTodos(db).finally(() => db.destroy());
const result = await measureCeiling(servicesUrl, todos, Number(concurrency), Number(pageSize));
process.stdout.write(`${JSON.stringify(result)}\n`);
