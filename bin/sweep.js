#!/usr/bin/env node
// `sweep <job>`: the compiled build when there is one (the container image runs
// `npm run build`), otherwise the TypeScript sources through tsx, with no build step.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/main.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
