import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string =>
  fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import workspace packages from source; child processes spawned by tests run the built
// dist (see `pnpm test`, which builds first). Exact matches, so that a subpath (such as
// `@handover/nats/controller`) is not read as a file under the root entry.
const alias = [
  ...['core', 'identity', 'nats', 'http', 'express', 'fastify', 'testkit', 'metrics', 'cli'].map(
    (name) => ({
      find: new RegExp(`^@handover/${name}$`),
      replacement: source(`${name}/src/index.ts`),
    }),
  ),
  { find: /^@handover\/nats\/(controller|wire)$/, replacement: source('nats/src/exports/$1.ts') },
];

const project = (name: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, root: `packages/${name}`, ...extra },
});

// Heavy scenarios (npm installs, load balancers at rate, clusters, Docker) run once per CI run,
// on Node 20, after the others and one file at a time (`pnpm test`), so that their load does
// not skew the timing of the rest. `HANDOVER_TEST_SCOPE=light` runs the others only (the Node
// 22/24 runs in .ci/run), `heavy` the heavy ones only; unset, everything.
const scope = process.env.HANDOVER_TEST_SCOPE;
const heavyProjects = new Set(['consumer', 'cluster', 'lb', 'e2e']);
const inScope = (name: string): boolean =>
  scope === 'light' ? !heavyProjects.has(name) : scope === 'heavy' ? heavyProjects.has(name) : true;

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...['core', 'identity', 'testkit', 'metrics', 'cli'].map((name) => project(name)),
      // Their load-balancer stage (test/lb.test.ts) is the `lb` project's.
      ...['http', 'express', 'fastify'].map((name) =>
        project(name, { exclude: ['test/lb.test.ts', '**/node_modules/**'] }),
      ),
      project('nats', { exclude: ['test/cluster/**', '**/node_modules/**'] }),
      // Real workers on a real 3-node cluster under load: heavy, run once per CI run.
      project('cluster', {
        root: 'packages/nats',
        include: ['test/cluster/**/*.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 60_000,
      }),
      // Rolling updates behind real nginx and HAProxy at production rates (issue 11): heavy, run
      // once per CI run. One LB roll at a time, after every other project (the Swarm scenarios
      // included): a roll's figures are only meaningful when nothing else loads the machine.
      {
        extends: true as const,
        test: {
          name: 'lb',
          root: '.',
          include: ['packages/{http,express,fastify}/test/lb.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      // Docker Swarm scenarios (packages/e2e): after every other project, one file at a time
      // (they share the engine and the machine's cores); skipped without Docker, failed in CI.
      project('e2e', {
        testTimeout: 600_000,
        hookTimeout: 600_000,
        fileParallelism: false,
        sequence: { groupOrder: 1 },
      }),
      // Checks across packages (docs against code, examples, the demo).
      { extends: true as const, test: { name: 'repo', root: '.', include: ['test/*.test.ts'] } },
      // The packed packages installed with npm into a fresh project: heavy (npm install), run
      // once per CI run, on Node 20.
      {
        extends: true as const,
        test: {
          name: 'consumer',
          root: 'test/consumer',
          include: ['*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
    ].filter((p) => inScope(p.test.name)),
    passWithNoTests: true,
    // Kills what a test file left running (a failed test's child processes).
    setupFiles: [fileURLToPath(new URL('./packages/testkit/src/reap.ts', import.meta.url))],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
