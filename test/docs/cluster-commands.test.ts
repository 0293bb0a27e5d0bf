import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { jobs } from '../../src/jobs.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const OPERATING = readFileSync(join(root, 'docs/operating.md'), 'utf8');
const section = OPERATING.split('### Running a command in the cluster')[1]!.split('\n## ')[0]!;
const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((match) => match[1]!.replace(/\\\n/g, ' ').split('\n'))
  .filter((line) => line.startsWith('kubectl'));

interface Manifest { kind: string; metadata: { name: string }; spec: any }
const manifests = readdirSync(join(root, 'deploy')).filter((file) => file.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(root, 'deploy', file), 'utf8')).map((doc) => doc.toJS() as Manifest))
  .filter(Boolean);
const named = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const envFromSecret = (podSpec: any) => (podSpec.containers[0].envFrom as Array<{ secretRef?: { name: string } }>)
  .some((source) => source.secretRef?.name === 'sweep');

/** docs/operating.md's way of running a runbook command in the cluster names what deploy/ makes, and sweep's own commands. */
describe('running a command in the cluster (docs/operating.md)', () => {
  it('has commands to check', () => {
    expect(commands.filter((line) => line.startsWith('kubectl exec'))).toHaveLength(2);
    expect(commands.filter((line) => line.includes('--from=cronjob/'))).toHaveLength(1);
  });

  it('execs into a Deployment of deploy/ whose pod has the Secret with DATABASE_URL, and runs a command sweep has', () => {
    for (const line of commands.filter((l) => l.startsWith('kubectl exec'))) {
      const [, deployment, command] = line.match(/^kubectl exec deploy\/(\S+) -- sweep (\S+)/) ?? [];
      const manifest = named('Deployment', deployment ?? '');
      expect(manifest, line).toBeDefined();
      expect(envFromSecret(manifest!.spec.template.spec), line).toBe(true);
      expect(jobs.map((job) => job.name), line).toContain(command);
    }
  });

  it('makes a one-off Job from a CronJob of deploy/, whose pod has the Secret, with args sweep has', () => {
    const line = commands.find((l) => l.includes('--from=cronjob/'))!;
    const cronJob = named('CronJob', line.match(/--from=cronjob\/(\S+)/)![1]!);
    expect(cronJob, line).toBeDefined();
    const podSpec = cronJob!.spec.jobTemplate.spec.template.spec;
    expect(envFromSecret(podSpec)).toBe(true);
    // The args replace the container's own, whose first is the job: the image's entrypoint runs them.
    expect(podSpec.containers[0].command).toBeUndefined();
    const args = JSON.parse(line.match(/\.args = (\[.*?\])/)![1]!) as string[];
    expect(jobs.map((job) => job.name)).toContain(args[0]);
  });
});
