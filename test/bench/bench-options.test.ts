import { describe, expect, it } from 'vitest';
import { BenchUsageError, DEPLOYED_NODE_FLAGS, parseBenchOptions } from './bench-options.js';

describe('parseBenchOptions', () => {
  it('has the issue\'s defaults: 20,000 todos, 200 workspaces, 20 ms, C = 64, one runner, the compiled build', () => {
    expect(parseBenchOptions([])).toEqual({
      todos: 20_000, workspaces: 200, latencyMs: 20, concurrencies: [64], runners: 1, repeat: 1, pageSize: 500,
      maxRate: undefined, nodeFlags: [...DEPLOYED_NODE_FLAGS], build: 'dist', history: undefined, futureTodos: 0, zones: 0, console: undefined, tracing: false, traceSampler: { name: 'always_on' }, outDir: 'bench-results', help: false,
    });
  });

  it('runs the runners with the deployed node flags unless --node-flags replaces them, "" for none', () => {
    expect(DEPLOYED_NODE_FLAGS).toEqual(['--max-old-space-size=256']);
    expect(parseBenchOptions(['--node-flags=']).nodeFlags).toEqual([]);
  });

  it('reads a list of concurrencies, sorted and without repeats', () => {
    expect(parseBenchOptions(['--concurrency', '64,1, 16,4,16']).concurrencies).toEqual([1, 4, 16, 64]);
  });

  it('passes --max-rate, --build tsx and node\'s own flags through', () => {
    const options = parseBenchOptions(['--max-rate', '300', '--build', 'tsx', '--node-flags=--cpu-prof  --max-semi-space-size=8']);
    expect(options).toMatchObject({ maxRate: 300, build: 'tsx', nodeFlags: ['--cpu-prof', '--max-semi-space-size=8'] });
  });

  it('reads --history as history sizes, sorted and without repeats, 0 allowed (the no-history baseline)', () => {
    expect(parseBenchOptions(['--history', '10000000, 0,1000000,0']).history).toEqual([0, 1_000_000, 10_000_000]);
    expect(parseBenchOptions(['--history', '0', '--todos', '5000', '--concurrency', '16'])).toMatchObject({ history: [0], todos: 5000, concurrencies: [16] });
    expect(parseBenchOptions(['--history', '0', '--future-todos', '180000']).futureTodos).toBe(180_000);
  });

  it('reads --zones with --history: the workspaces over that many of the bench\'s 40 zones', () => {
    expect(parseBenchOptions(['--history', '10000000', '--workspaces', '10000', '--zones', '40'])).toMatchObject({ zones: 40, workspaces: 10_000 });
  });

  it('reads --console with the issue\'s ledger by default: 10,000,000 deliveries, 100,000 runs, 40 requests a route', () => {
    expect(parseBenchOptions(['--console']).console).toEqual({ deliveries: 10_000_000, runs: 100_000, requests: 40, prune: false });
    expect(parseBenchOptions(['--console', '--deliveries', '50000', '--runs', '300', '--requests', '5']).console)
      .toEqual({ deliveries: 50_000, runs: 300, requests: 5, prune: false });
    expect(parseBenchOptions(['--console', '--prune']).console).toMatchObject({ prune: true });
  });

  it('reads --trace-sampler with --tracing: OTEL_TRACES_SAMPLER, and its ratio after a colon', () => {
    expect(parseBenchOptions(['--tracing'])).toMatchObject({ tracing: true, traceSampler: { name: 'always_on' } });
    expect(parseBenchOptions(['--tracing', '--trace-sampler', 'parentbased_traceidratio:0.1']).traceSampler)
      .toEqual({ name: 'parentbased_traceidratio', arg: '0.1' });
    expect(parseBenchOptions(['--tracing', '--trace-sampler', 'always_off']).traceSampler).toEqual({ name: 'always_off' });
  });

  it.each([
    [['--trace-sampler', 'always_off'], /--trace-sampler goes with --tracing/],
    [['--tracing', '--trace-sampler', 'sometimes'], /--trace-sampler must be one of always_on, always_off/],
    [['--tracing', '--trace-sampler', 'always_on:0.5'], /takes a ratio from 0 to 1 after a traceidratio sampler/],
    [['--tracing', '--trace-sampler', 'traceidratio:1.5'], /takes a ratio from 0 to 1/],
    [['--console', '--history', '0'], /--console and --history are two modes/],
    [['--zones', '40'], /--zones goes with --history/],
    [['--history', '0', '--zones', '41'], /--zones must be an integer from 1 to 40/],
    [['--history', '0', '--zones', '0'], /--zones must be an integer from 1 to 40/],
    [['--deliveries', '5000'], /--deliveries goes with --console/],
    [['--prune'], /--prune goes with --console/],
    [['--console', '--deliveries', '4999'], /--deliveries must be an integer from 5000 to 20000000/],
    [['--console', '--runs', '2'], /--runs must be an integer from 3 to 1000000/],
    [['--todos', '0'], /--todos must be an integer from 1 to 1000000/],
    [['--todos', '10', '--workspaces', '11'], /--workspaces 11 is more than --todos 10/],
    [['--concurrency', '8,x'], /--concurrency must be an integer/],
    [['--max-rate', '0'], /--max-rate must be an integer from 1/],
    [['--repeat', '26'], /--repeat must be an integer from 1 to 25/],
    [['--build', 'docker'], /--build must be dist or tsx/],
    [['--history', '0,x'], /--history must be an integer from 0 to 20000000/],
    [['--history', '20000001'], /--history must be an integer from 0 to 20000000/],
    [['--history', ''], /--history must be an integer/],
    [['--history', '0,1000', '--concurrency', '16,64'], /--history measures one --concurrency \(got 16,64\)/],
    [['--future-todos', '1000'], /--future-todos goes with --history/],
    [['--history', '0', '--future-todos', '1000001'], /--future-todos must be an integer from 0 to 1000000/],
    [['--node-flags=max-old-space-size=64'], /each starting with a dash/],
    [['--node-flags', '--cpu-prof'], /--node-flags's value starts with a dash: write --node-flags="..."/],
    [['--unknown'], /Unknown option '--unknown'/],
    [['extra'], /unexpected argument "extra"/],
  ])('refuses %j with one line that names the problem', (argv, message) => {
    expect(() => parseBenchOptions(argv)).toThrow(BenchUsageError);
    expect(() => parseBenchOptions(argv)).toThrow(message);
  });
});
