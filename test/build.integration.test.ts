import { execFile } from 'node:child_process';
import { cpSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The production build, laid out as the Dockerfile lays out the image: package.json,
 * bin/, node_modules/ and dist/ from `tsc -p tsconfig.build.json`. It is compiled into
 * a temporary directory, never into dist/: bin/sweep.js prefers dist/, so a dist/ left
 * behind would shadow the sources for every other test. There is no src/ in the
 * layout, so bin/sweep.js cannot fall back to the TypeScript sources either.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as
  { version: string; dependencies: Record<string, string> };
let app: string;
let dataDir: string;

function run(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { ...options, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** `node <app>/bin/sweep.js`: the image's ENTRYPOINT, from the image's working directory. */
function sweep(args: string[], env: Record<string, string> = {}) {
  return run([join(app, 'bin', 'sweep.js'), ...args], {
    cwd: app,
    // Only what is given: no DATABASE_URL from this machine, no .env from the checkout.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_FORMAT: 'json', ...env },
  });
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'sweep-build-'));
  dataDir = mkdtempSync(join(tmpdir(), 'sweep-build-data-'));
  const tsc = await run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], { cwd: root });
  expect(tsc, 'tsc -p tsconfig.build.json').toMatchObject({ code: 0 });
  copyFileSync(join(root, 'package.json'), join(app, 'package.json'));
  cpSync(join(root, 'bin'), join(app, 'bin'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
}, 120_000);

afterAll(() => {
  for (const directory of [app, dataDir]) if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('the production build', () => {
  it('prints the version of package.json', async () => {
    const { code, stdout, stderr } = await sweep(['--version']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(packageJson.version);
  });

  it('runs as `sweep` from the PATH, through a link to bin/sweep.js as the image makes it, from any directory', async () => {
    const pathDir = mkdtempSync(join(tmpdir(), 'sweep-path-'));
    try {
      symlinkSync(join(app, 'bin', 'sweep.js'), join(pathDir, 'sweep'));
      const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile('sweep', ['--version'], { cwd: tmpdir(), env: { PATH: `${pathDir}:${process.env.PATH ?? ''}`, NODE_ENV: 'production' } },
          (error, out) => resolve({ code: error ? 1 : 0, stdout: out }));
      });
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(packageJson.version);
    } finally {
      rmSync(pathDir, { recursive: true, force: true });
    }
  });

  it('applies every migration, compiled, to the embedded database', async () => {
    const expected = readdirSync(join(root, 'migrations')).filter((file) => extname(file) === '.ts')
      .map((file) => file.slice(0, -'.ts'.length)).sort();
    expect(expected.length).toBeGreaterThan(0);

    // The embedded database is refused under NODE_ENV=production; the compiled
    // migrations load the same way against a server.
    const { code, stdout, stderr } = await sweep(['migrate'], { SWEEP_DATA_DIR: dataDir, NODE_ENV: 'development' });
    expect(code, stderr).toBe(0);
    const applied = stdout.split('\n').filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; migration?: string })
      .filter((line) => line.msg === 'applied migration').map((line) => line.migration);
    expect(applied).toEqual(expected);
  });

  it('imports no package that `npm ci --omit=dev` leaves out', () => {
    const allowed = new Set([...Object.keys(packageJson.dependencies), ...builtinModules]);
    const specifier = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
    const imported = new Set<string>();
    for (const file of [...filesUnder(join(app, 'dist')), ...filesUnder(join(app, 'bin'))].filter((name) => name.endsWith('.js'))) {
      for (const [, name = ''] of readFileSync(file, 'utf8').matchAll(specifier)) {
        if (name.startsWith('.') || name.startsWith('node:')) continue;
        imported.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(0);
    expect([...imported].filter((name) => !allowed.has(name))).toEqual([]);
  });
});
