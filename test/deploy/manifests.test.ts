import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Option } from 'commander';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { getConfig } from '../../src/configuration/config.js';
import { jobs, notificationJobs as registeredNotificationJobs } from '../../src/jobs.js';
import { ExitCode } from '../../src/runner/exit-codes.js';
import { DEPLOYED_NODE_FLAGS } from '../bench/bench-options.js';

/**
 * The Kubernetes manifests in deploy/ and the Dockerfile, checked against the
 * Kubernetes schemas and against the code they run: the exit codes, the job registry,
 * the grace period of a stopping run, the configuration sweep reads.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const deployDir = join(root, 'deploy');
/** Prometheus' rules and their tests: YAML, but not Kubernetes objects. */
const prometheusDir = join(deployDir, 'prometheus');
const rulesFile = join(prometheusDir, 'sweep.rules.yaml');
const rulesTestFile = join(prometheusDir, 'sweep.rules.test.yaml');

interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  [field: string]: unknown;
}

interface Manifest {
  /** file#document, for test names and messages. */
  source: string;
  object: KubernetesObject;
}

/** Every apiVersion/kind deploy/ may hold, with its model; anything else fails the test. */
const models: Record<string, { prototype: { validate(): void } }> = {
  'batch/v1/CronJob': CronJob,
  'batch/v1/Job': Job,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
};

/**
 * Every YAML file, in subfolders too, and the templates named `.yaml.example`; not
 * deploy/prometheus/, whose files are checked below as what they are.
 */
function yamlFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml(\.example)?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !file.startsWith(`${prometheusDir}/`))
    .sort();
}

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of yamlFiles(deployDir)) {
    const name = relative(root, file);
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((document, index) => {
      const problems = [...document.errors, ...document.warnings];
      if (problems.length > 0) throw new Error(`${name} document ${index + 1}: ${problems.map((p) => p.message).join('; ')}`);
      const object = document.toJS() as KubernetesObject | null;
      // A document with only comments, or after a trailing `---`.
      if (object !== null) manifests.push({ source: `${name}#${index + 1}`, object });
    });
  }
  return manifests;
}

/**
 * Validates against the model's schema (throws on a wrong type, a missing required field
 * or a value outside an enum), and returns the paths of the fields the schema does not
 * know. Kubernetes' schemas allow unknown fields, so a misspelt one (say
 * `terminationGracePeriodSecond`) would pass validation, then be refused by the API
 * server or dropped. The compiled validator reads every field it knows, so the fields
 * it never read are the unknown ones.
 */
function validateStrictly(model: { prototype: { validate(): void } }, object: KubernetesObject): string[] {
  const read = new WeakMap<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const track = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const known = proxies.get(value);
    if (known) return known;
    if (!Array.isArray(value)) read.set(value, new Set());
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        read.get(target)?.add(key);
        return track(Reflect.get(target, key, receiver));
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  model.prototype.validate.call(track(object));

  const unknown: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, index) => walk(item, `${path}[${index}]`));
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (!read.get(value)?.has(key)) unknown.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
  };
  walk(object, '');
  return unknown;
}

/** The notification jobs of the registry: each has a CronJob in deploy/ and the alerts of deploy/prometheus/. */
const notificationJobs = registeredNotificationJobs.map((job) => job.name);

const manifests = loadManifests();
const ofKind = (kind: string) => manifests.filter(({ object }) => object.kind === kind);
const label = ({ object }: Manifest) => `${object.kind} ${object.metadata?.name ?? '(no name)'}`;

interface Workload {
  source: string;
  name: string;
  jobSpec: IJobSpec;
  podSpec: IPodSpec;
}

/** Every Job's spec: the Jobs themselves and the CronJobs' templates. */
const workloads: Workload[] = manifests.flatMap((manifest): Workload[] => {
  const spec = manifest.object.spec as { jobTemplate?: { spec?: IJobSpec } } & IJobSpec | undefined;
  const jobSpec = manifest.object.kind === 'CronJob' ? spec?.jobTemplate?.spec : manifest.object.kind === 'Job' ? spec : undefined;
  if (!jobSpec) return [];
  return [{ source: manifest.source, name: label(manifest), jobSpec, podSpec: jobSpec.template.spec ?? { containers: [] } }];
});

/** The long-running pods: the console. */
const deployments = ofKind('Deployment').map((manifest) => ({ source: manifest.source, name: label(manifest),
  object: manifest.object as KubernetesObject & { spec: { replicas?: number; selector: { matchLabels: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: IPodSpec } } } }));

const podOwners: Array<{ name: string; podSpec: IPodSpec }> = [...workloads,
  ...deployments.map(({ name, object }) => ({ name, podSpec: object.spec.template.spec }))];

const containers = podOwners.flatMap((workload) => [...workload.podSpec.initContainers ?? [], ...workload.podSpec.containers]
  .map((container) => ({ workload, container, name: `${workload.name}, container ${container.name}` })));

const jobName = (container: IContainer) => container.args?.[0];

/** The value a container's environment gives a variable: env, then envFrom (the last source wins). */
function environmentValue(container: IContainer, variable: string): string | undefined {
  const direct = container.env?.find((entry) => entry.name === variable);
  if (direct) return direct.value;
  for (const source of [...container.envFrom ?? []].reverse()) {
    if (source.configMapRef) {
      const data = configMap(source.configMapRef.name)?.data;
      if (data?.[variable] !== undefined) return data[variable];
    }
    if (source.secretRef) {
      const value = secretData(source.secretRef.name)?.[variable];
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

function configMap(name: string | undefined): { data?: Record<string, string> } | undefined {
  return ofKind('ConfigMap').find(({ object }) => object.metadata?.name === name)?.object as { data?: Record<string, string> } | undefined;
}

/** A Secret's values, decoded: stringData wins over data, as in the API server. */
function secretData(name: string | undefined): Record<string, string> | undefined {
  const secret = ofKind('Secret').find(({ object }) => object.metadata?.name === name)?.object as
    { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
  if (!secret) return undefined;
  const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  return { ...decoded, ...secret.stringData };
}

/** A job's options from the registry. */
function jobOptions(name: string | undefined): Option[] | undefined {
  const job = jobs.find((candidate) => candidate.name === name);
  return job ? job.options?.() ?? [] : undefined;
}

/** Room above node's old-space cap for the young generation, code, stacks and buffers. */
const OUTSIDE_THE_HEAP_MI = 128;

/** A Kubernetes memory quantity in MiB: 384Mi, 1Gi, 512M. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi|M|G)$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity this test reads: ${quantity}`);
  const units: Record<string, number> = { Mi: 1, Gi: 1024, M: 1e6 / 2 ** 20, G: 1e9 / 2 ** 20 };
  return Number(match[1]) * units[match[2]!]!;
}

/** The NODE_OPTIONS the image sets. */
function imageNodeOptions(): string | undefined {
  return dockerfileInstructions().filter(({ instruction, value }) => instruction === 'ENV' && value.startsWith('NODE_OPTIONS='))
    .at(-1)?.value.slice('NODE_OPTIONS='.length).replace(/^"|"$/g, '');
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerfileInstructions(): Array<{ instruction: string; value: string }> {
  return readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\r?\n/g, ' ').split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [instruction = '', ...rest] = line.split(/\s+/);
      return { instruction: instruction.toUpperCase(), value: rest.join(' ') };
    });
}

describe('deploy/', () => {
  it('holds the sweep and prune CronJobs, the migrate Job, the parallel sweep, a ConfigMap and a Secret', () => {
    const running = (kind: string, job: string) => workloads.filter((workload) => workload.name.startsWith(`${kind} `)
      && workload.podSpec.containers.some((container) => jobName(container) === job));
    expect(running('CronJob', 'send-delay-notifications')).toHaveLength(1);
    expect(running('CronJob', 'prune')).toHaveLength(1);
    expect(running('Job', 'migrate')).toHaveLength(1);
    const parallel = running('Job', 'send-delay-notifications');
    expect(parallel).toHaveLength(1);
    expect(parallel[0]?.jobSpec).toMatchObject({ completionMode: 'Indexed' });
    expect(parallel[0]?.jobSpec.parallelism).toBeGreaterThan(1);
    expect(parallel[0]?.jobSpec.completions).toBe(parallel[0]?.jobSpec.parallelism);
    expect(ofKind('ConfigMap')).toHaveLength(1);
    expect(ofKind('Secret')).toHaveLength(1);
  });

  it.each(notificationJobs.map((name) => [name] as const))('holds one CronJob named %s that runs that job', (name) => {
    const cronJobs = workloads.filter((workload) => workload.name.startsWith('CronJob ')
      && workload.podSpec.containers.some((container) => jobName(container) === name));
    expect(cronJobs.map((workload) => workload.name)).toEqual([`CronJob ${name}`]);
  });

  it.each(ofKind('CronJob').map((manifest) => [label(manifest), manifest] as const))(
    '%s runs the job it is named after, and says so in its labels', (_label, { object }) => {
      const cronJob = object as KubernetesObject & { spec: { jobTemplate: { metadata?: { labels?: Record<string, string> }; spec: IJobSpec } } };
      const name = cronJob.metadata?.name;
      const { jobTemplate } = cronJob.spec;
      expect(jobTemplate.spec.template.spec?.containers.map(jobName)).toEqual([name]);
      // kubectl get jobs,pods -l app.kubernetes.io/component=<job>, as the alerts say.
      for (const labels of [cronJob.metadata as { labels?: Record<string, string> }, jobTemplate.metadata, jobTemplate.spec.template.metadata]) {
        expect(labels?.labels?.['app.kubernetes.io/component']).toBe(name);
      }
    });

  it('has a line in crontab.example for every CronJob, with the same job and arguments', () => {
    const crontab = readFileSync(join(root, 'deploy/crontab.example'), 'utf8').split(/\r?\n/)
      .filter((line) => /^[*\d]/.test(line))
      .map((line) => /bin\/sweep\.js (.*?) 2>&1/.exec(line)?.[1]);
    const scheduled = workloads.filter((workload) => workload.name.startsWith('CronJob '))
      .map((workload) => workload.podSpec.containers[0]?.args?.join(' '));
    expect([...crontab].sort()).toEqual([...scheduled].sort());
  });

  it('gives `kubectl apply -f deploy/` only the ConfigMap, the schedules and the console: no Secret placeholders, no one-off Job', () => {
    // kubectl reads a folder's .json, .yaml and .yml files, not its subfolders.
    const applied = manifests.filter(({ source }) => /^deploy\/[^/]+\.(json|ya?ml)#/.test(source));
    expect(new Set(applied.map(({ object }) => object.kind))).toEqual(new Set(['ConfigMap', 'CronJob', 'Deployment', 'Service']));
  });

  it('runs one console, ready on /readyz and alive on /healthz, on the port its Service targets, with its tokens from a Secret', () => {
    expect(deployments.map(({ name }) => name)).toEqual(['Deployment sweep-console']);
    const { object } = deployments[0]!;
    // Sessions and re-arm previews are in the process's memory.
    expect(object.spec.replicas).toBe(1);
    expect(object.spec.template.metadata?.labels).toMatchObject(object.spec.selector.matchLabels);
    const [container] = object.spec.template.spec.containers;
    const args = container!.args ?? [];
    expect(args[0]).toBe('console');
    expect(args.slice(args.indexOf('--host'), args.indexOf('--host') + 2)).toEqual(['--host', '0.0.0.0']);
    const port = Number(args[args.indexOf('--port') + 1]);
    expect(container!.ports).toEqual([{ name: 'http', containerPort: port }]);
    expect(container!.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(container!.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(container!.env?.find((entry) => entry.name === 'SWEEP_CONSOLE_TOKENS')?.valueFrom?.secretKeyRef)
      .toMatchObject({ key: 'SWEEP_CONSOLE_TOKENS', name: expect.any(String) });
    expect(object.spec.template.spec.automountServiceAccountToken).toBe(false);
    const services = ofKind('Service').map(({ object: service }) => service as KubernetesObject & {
      spec: { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> } });
    expect(services).toHaveLength(1);
    expect(services[0]!.spec.selector).toEqual(object.spec.selector.matchLabels);
    expect(services[0]!.spec.ports.map((entry) => entry.targetPort)).toEqual(['http']);
  });

  it.each(manifests.map((manifest) => [manifest.source, manifest] as const))(
    '%s is a valid Kubernetes object without unknown fields', (_source, { object }) => {
      const model = models[`${object.apiVersion}/${object.kind}`];
      if (!model) throw new Error(`unknown kind ${object.apiVersion} ${object.kind}: add its model from kubernetes-models to this test`);
      expect(validateStrictly(model, object)).toEqual([]);
    });

  it('finds a misspelt field and a wrong type, so the check above can fail', () => {
    const cronJob = structuredClone(ofKind('CronJob')[0]!.object) as KubernetesObject & { spec: { jobTemplate: { spec: Record<string, unknown> } } };
    cronJob.spec.jobTemplate.spec.activeDeadlineSecond = 60;
    expect(validateStrictly(CronJob, cronJob)).toEqual(['.spec.jobTemplate.spec.activeDeadlineSecond']);
    cronJob.spec.jobTemplate.spec.backoffLimit = 'two';
    expect(() => validateStrictly(CronJob, cronJob)).toThrow(/backoffLimit must be integer/);
  });
});

describe('podFailurePolicy', () => {
  /** What a Job does with a pod that exits with each code sweep names; the rest are not named. */
  const intended = new Map<number, string>([
    [ExitCode.USAGE, 'FailJob'],
    [ExitCode.HELD, 'FailJob'],
    [ExitCode.ABORTED, 'Count'],
    [ExitCode.TEMPFAIL, 'Count'],
  ]);

  it.each(workloads.map((workload) => [workload.name, workload] as const))(
    '%s fails at once on 64 and 65 (held), retries 1 and 75, and ignores disruptions', (_name, { jobSpec, podSpec }) => {
      expect(podSpec.restartPolicy, 'podFailurePolicy needs restartPolicy Never').toBe('Never');
      const rules = jobSpec.podFailurePolicy?.rules ?? [];
      expect(rules.length).toBeGreaterThan(0);
      const named = new Map<number, string>();
      for (const rule of rules) {
        expect(Boolean(rule.onExitCodes) !== Boolean(rule.onPodConditions), 'a rule has onExitCodes or onPodConditions, not both').toBe(true);
        if (!rule.onExitCodes) continue;
        const { operator, values, containerName } = rule.onExitCodes;
        expect(operator).toBe('In');
        expect(values, 'the API server wants them ordered, without duplicates').toEqual([...new Set(values)].sort((a, b) => a - b));
        if (containerName !== undefined) expect(podSpec.containers.map((container) => container.name)).toContain(containerName);
        for (const code of values) {
          expect(Object.values(ExitCode), `exit code ${code} is not one of src/runner/exit-codes.ts`).toContain(code);
          expect(named.has(code), `exit code ${code} is named twice`).toBe(false);
          named.set(code, rule.action);
        }
      }
      expect(Object.fromEntries(named)).toEqual(Object.fromEntries(intended));

      const ignoresDisruptions = rules.findIndex((rule) => rule.action === 'Ignore'
        && rule.onPodConditions?.some((condition) => condition.type === 'DisruptionTarget' && condition.status === 'True'));
      expect(ignoresDisruptions, 'a DisruptionTarget → Ignore rule').toBeGreaterThanOrEqual(0);
      // The first rule that matches wins: a disrupted pod that exited 1 is not counted.
      const firstCount = rules.findIndex((rule) => rule.action === 'Count');
      expect(ignoresDisruptions).toBeLessThan(firstCount);
    });
});

describe('containers', () => {
  const sendDelayNotificationsJob = jobs.find((job) => job.name === 'send-delay-notifications')!;
  const graceOption = sendDelayNotificationsJob.options?.().find((option: Option) => option.long === '--grace-seconds');

  it('reads the --grace-seconds default from the job definition', () => {
    expect(graceOption?.defaultValue).toEqual(expect.any(Number));
    expect(graceOption?.envVar).toEqual(expect.any(String));
  });

  const sweeps = containers.filter(({ container }) => notificationJobs.includes(jobName(container) ?? ''));

  it.each(sweeps.map((entry) => [entry.name, entry] as const))(
    '%s: terminationGracePeriodSeconds exceeds the run\'s --grace-seconds', (_name, { workload, container }) => {
      const jobGrace = jobOptions(jobName(container))?.find((option) => option.long === '--grace-seconds');
      expect(jobGrace?.defaultValue).toEqual(expect.any(Number));
      expect(jobGrace?.envVar).toEqual(expect.any(String));
      const args = container.args ?? [];
      const index = args.findIndex((arg) => arg === '--grace-seconds' || arg.startsWith('--grace-seconds='));
      const fromArgs = index < 0 ? undefined : args[index]!.includes('=') ? args[index]!.split('=')[1] : args[index + 1];
      const grace = Number(fromArgs ?? environmentValue(container, jobGrace!.envVar!) ?? jobGrace!.defaultValue);
      expect(grace).toEqual(expect.any(Number));
      // Unset, Kubernetes gives 30 s; say it, so that it moves together with the grace period.
      expect(workload.podSpec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
    });

  it.each(containers.map((entry) => [entry.name, entry] as const))(
    '%s runs the image\'s entrypoint with a job of the registry and that job\'s options', (_name, { container }) => {
      expect(container.command, 'command would replace the image\'s ENTRYPOINT (node bin/sweep.js)').toBeUndefined();
      const options = jobOptions(jobName(container));
      expect(options, `'${jobName(container)}' is not a job in src/jobs.ts (${jobs.map((job) => job.name).join(', ')})`).toBeDefined();
      const known = new Set(options!.map((option) => option.long));
      for (const arg of container.args!.slice(1).filter((candidate) => candidate.startsWith('--'))) {
        expect(known, `${arg} is not an option of ${jobName(container)}`).toContain(arg.split('=')[0]);
      }
    });

  it('all run the same image, so a release moves them together', () => {
    expect(new Set(containers.map(({ container }) => container.image)).size).toBe(1);
  });

  it.each(containers.map((entry) => [entry.name, entry] as const))(
    '%s runs as non-root on a read-only root file system, with no privileges', (_name, { workload, container }) => {
      const pod = workload.podSpec.securityContext ?? {};
      expect(container.securityContext?.runAsNonRoot ?? pod.runAsNonRoot).toBe(true);
      expect(container.securityContext?.runAsUser ?? pod.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.securityContext?.privileged).not.toBe(true);
      expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources?.limits).toMatchObject({ memory: expect.any(String) });
    });

  it.each(containers.map((entry) => [entry.name, entry] as const))(
    '%s has room in its memory limit for node\'s heap cap and what lies outside the heap', (_name, { container }) => {
      // V8 grows the heap towards its cap before it collects hard: a limit no larger than
      // the cap lets the kernel kill the pod (OOMKilled) for garbage V8 would have freed.
      const flags = environmentValue(container, 'NODE_OPTIONS') ?? imageNodeOptions();
      const heapMb = Number(/--max-old-space-size=(\d+)/.exec(flags ?? '')?.[1]);
      expect(heapMb, 'a heap cap from the container or the image').toBeGreaterThan(0);
      expect(mebibytes(String(container.resources?.limits?.memory))).toBeGreaterThanOrEqual(heapMb + OUTSIDE_THE_HEAP_MI);
    });

  it.each(containers.map((entry) => [entry.name, entry] as const))(
    '%s takes its environment from the ConfigMap and the Secret in deploy/', (_name, { container }) => {
      const configMaps = (container.envFrom ?? []).map((source) => source.configMapRef?.name).filter(Boolean);
      const secrets = (container.envFrom ?? []).map((source) => source.secretRef?.name).filter(Boolean);
      expect(configMaps).toEqual([ofKind('ConfigMap')[0]?.object.metadata?.name]);
      expect(secrets).toEqual([ofKind('Secret')[0]?.object.metadata?.name]);
      expect(environmentValue(container, 'DATABASE_URL'), 'without it sweep would use the embedded database').toMatch(/^postgres(ql)?:\/\//);
    });
});

describe('configuration in deploy/', () => {
  const environment = () => ({ ...configMap(ofKind('ConfigMap')[0]?.object.metadata?.name)?.data,
    ...secretData(ofKind('Secret')[0]?.object.metadata?.name) });

  it('is a valid configuration for a PostgreSQL server, with JSON logs', () => {
    const config = getConfig(environment(), { stdoutIsTTY: true, cwd: root });
    expect(config.database.kind).toBe('postgres');
    expect(config.log.format).toBe('json');
  });

  it('sets only variables sweep reads, each with a value its option accepts', () => {
    // The names getConfig reads, recorded as it reads them.
    const read = new Set<string>();
    getConfig(new Proxy({}, { get: (_target, name) => { read.add(String(name)); return undefined; } }));
    expect(read).toContain('DATABASE_URL');
    const optionsByVariable = new Map(jobs.flatMap((job) => job.options?.() ?? [])
      .filter((option) => option.envVar).map((option) => [option.envVar!, option]));

    for (const [variable, value] of Object.entries(environment())) {
      const option = optionsByVariable.get(variable);
      expect(read.has(variable) || option !== undefined, `${variable} is read by neither getConfig nor a job option`).toBe(true);
      if (option?.parseArg) expect(() => option.parseArg!(value, undefined), `${variable}=${value}`).not.toThrow();
    }
  });
});

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The rules of deploy/prometheus/sweep.rules.yaml, all of them (see below) alerting rules. */
function alertRules(): AlertRule[] {
  const { groups } = parse(readFileSync(rulesFile, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return groups.flatMap((group) => group.rules);
}

/**
 * The jobs an expression selects, from its `job="…"` and `job=~"a|b"` matchers. A
 * regex matcher must be a plain list of names, so that what it selects can be read.
 */
function jobsSelected(expr: string): string[] {
  return [...expr.matchAll(/\bjob\s*(=~|=)\s*"([^"]*)"/g)].flatMap(([, operator, value]) => {
    const names = operator === '=' ? [value!] : value!.split('|');
    for (const name of names) expect(name, `job matcher in ${expr}`).toMatch(/^[a-z][a-z0-9-]*$/);
    return names;
  });
}

/** Every job a line of the promtool tests names in its input series. */
const jobsOfSeries = (series: Array<{ series: string }>) => series.flatMap(({ series: selector }) => jobsSelected(selector));

describe('alert rules (deploy/prometheus/)', () => {
  const rules = alertRules();
  const scheduled = ofKind('CronJob').map(({ object }) => object.metadata!.name!);
  /** What every scheduled job needs, and what a notification job needs besides. */
  const everyJob = ['SweepNoRecentSuccess', 'SweepNotRunning', 'SweepNoMetrics', 'SweepRunAborted', 'SweepConfigError'];
  const notificationJob = ['SweepRetriesPersist', 'SweepDeadItems', 'SweepBacklogGrowing', 'SweepJobPaused'];
  const covered = (job: string) => rules.filter((rule) => jobsSelected(rule.expr).includes(job)).map((rule) => rule.alert);

  it('are rules of alerts only, each selecting its jobs by name, all of them scheduled', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.alert, `a recording rule: ${rule.expr}`).toEqual(expect.any(String));
      const selected = jobsSelected(rule.expr);
      expect(selected.length, `${rule.alert}: ${rule.expr} selects no job`).toBeGreaterThan(0);
      for (const job of selected) expect(scheduled, `${rule.alert} names ${job}, which has no CronJob`).toContain(job);
    }
  });

  it.each([...new Set([...scheduled, ...notificationJobs])].map((job) => [job] as const))(
    'cover %s once each, with the alerts of its kind', (job) => {
      const alerts = covered(job);
      expect(alerts, 'no alert covers this job twice (two thresholds at once)').toEqual([...new Set(alerts)]);
      expect(alerts).toEqual(expect.arrayContaining(everyJob));
      if (notificationJobs.includes(job)) expect(alerts).toEqual(expect.arrayContaining(notificationJob));
    });

  it.each(rules.map((rule) => [`${rule.alert} (${jobsSelected(rule.expr).join(', ')})`, rule] as const))(
    '%s has a severity and a summary that says what to run', (_name, rule) => {
      expect(['page', 'ticket']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toMatch(/`(sweep|kubectl) [^`]+`/);
    });

  it('have promtool tests showing each alert firing and not firing for each of its jobs', () => {
    const { rule_files: ruleFiles, tests } = parse(readFileSync(rulesTestFile, 'utf8')) as {
      rule_files: string[];
      tests: Array<{
        input_series: Array<{ series: string }>;
        alert_rule_test: Array<{ alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
      }>;
    };
    expect(ruleFiles).toEqual(['sweep.rules.yaml']);
    const alertNames = new Set(rules.map((rule) => rule.alert));
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const test of tests) {
      for (const { alertname, exp_alerts: expected } of test.alert_rule_test) {
        expect(alertNames, `the tests expect ${alertname}, which no rule raises`).toContain(alertname);
        for (const { exp_labels: labels } of expected) firing.add(`${alertname} ${labels.job}`);
        if (expected.length === 0) for (const job of jobsOfSeries(test.input_series)) quiet.add(`${alertname} ${job}`);
      }
    }
    const pairs = rules.flatMap((rule) => jobsSelected(rule.expr).map((job) => `${rule.alert} ${job}`));
    expect(pairs.filter((pair) => !firing.has(pair)), 'never shown firing').toEqual([]);
    expect(pairs.filter((pair) => !quiet.has(pair)), 'never shown quiet').toEqual([]);
  });

  // Wherever promtool is installed. CI also runs `promtool test rules` before the tests,
  // which takes a quarter of a minute: too long to repeat here.
  const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!promtool)('pass promtool check rules', () => {
    const run = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions();
  const finalStage = instructions.slice(instructions.findLastIndex(({ instruction }) => instruction === 'FROM'));

  it('runs the final image as the numeric non-root user the pods run as', () => {
    const user = finalStage.filter(({ instruction }) => instruction === 'USER').at(-1)?.value.split(':')[0];
    // Numeric: the kubelet cannot check runAsNonRoot against a user name.
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    for (const { podSpec } of workloads) expect(podSpec.securityContext?.runAsUser).toBe(Number(user));
  });

  it('runs bin/sweep.js under NODE_ENV=production, --help by default', () => {
    expect(finalStage).toContainEqual({ instruction: 'ENTRYPOINT', value: '["node", "bin/sweep.js"]' });
    expect(finalStage).toContainEqual({ instruction: 'CMD', value: '["--help"]' });
    expect(finalStage).toContainEqual({ instruction: 'ENV', value: 'NODE_ENV=production' });
  });

  it('puts sweep on the PATH of the final image: a link to bin/sweep.js, which runs as a program', () => {
    const workdir = finalStage.filter(({ instruction }) => instruction === 'WORKDIR').at(-1)?.value;
    expect(workdir).toBe('/app');
    expect(finalStage).toContainEqual({ instruction: 'RUN', value: 'ln -s /app/bin/sweep.js /usr/local/bin/sweep' });
    // Before USER: the link is root's, in a directory the runner cannot write.
    const run = finalStage.findIndex(({ value }) => value.includes('/usr/local/bin/sweep'));
    expect(run).toBeLessThan(finalStage.findIndex(({ instruction }) => instruction === 'USER'));
    // COPY keeps a file's mode: the link is a program only if bin/sweep.js is one, with its interpreter line.
    expect(statSync(join(root, 'bin/sweep.js')).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(root, 'bin/sweep.js'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('sets the node flags the benchmark measures, in the image and in the crontab', () => {
    const flags = DEPLOYED_NODE_FLAGS.join(' ');
    expect(finalStage).toContainEqual({ instruction: 'ENV', value: `NODE_OPTIONS=${flags.includes(' ') ? JSON.stringify(flags) : flags}` });
    const crontab = readFileSync(join(root, 'deploy/crontab.example'), 'utf8').split(/\r?\n/)
      .filter((line) => /^[*\d]/.test(line) && line.includes('bin/sweep.js'));
    expect(crontab.length).toBeGreaterThan(0);
    for (const line of crontab) expect(line).toContain(`node ${flags} bin/sweep.js`);
  });

  it('gets every folder tsconfig.build.json compiles past .dockerignore and into the build', () => {
    const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split(/\r?\n/).map((line) => line.trim());
    const copied = instructions.filter(({ instruction }) => instruction === 'COPY').map(({ value }) => value.split(/\s+/)[0]);
    for (const folder of include) {
      expect(ignore, `.dockerignore lets ${folder}/ in`).toContain(`!${folder}/`);
      expect(copied, `the Dockerfile copies ${folder}`).toContain(folder);
    }
  });
});
