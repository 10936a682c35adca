import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string =>
  fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import workspace packages from source; child processes spawned by tests run the built
// dist (see `pnpm test`, which builds first). Exact matches, so that a subpath (such as
// `@handover/nats/controller`) is not read as a file under the root entry.
const alias = [
  ...['core', 'identity', 'nats', 'http', 'express', 'fastify', 'testkit', 'cli'].map((name) => ({
    find: new RegExp(`^@handover/${name}$`),
    replacement: source(`${name}/src/index.ts`),
  })),
  { find: /^@handover\/nats\/(controller|wire)$/, replacement: source('nats/src/exports/$1.ts') },
];

const project = (name: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, root: `packages/${name}`, ...extra },
});

// Heavy scenarios (npm installs, load balancers at rate, clusters, Docker) run once per CI run,
// on Node 20; `HANDOVER_TEST_SCOPE=light` (the other Node versions) leaves them out.
const light = process.env.HANDOVER_TEST_SCOPE === 'light';
const heavyProjects = new Set(['consumer', 'cluster']);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...['core', 'identity', 'testkit', 'http', 'express', 'fastify', 'cli'].map((name) =>
        project(name),
      ),
      project('nats', { exclude: ['test/cluster/**', '**/node_modules/**'] }),
      // Real workers on a real 3-node cluster under load: heavy, run once per CI run.
      project('cluster', {
        root: 'packages/nats',
        include: ['test/cluster/**/*.test.ts'],
        testTimeout: 120_000,
        hookTimeout: 60_000,
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
    ].filter((p) => !(light && heavyProjects.has(p.test.name))),
    passWithNoTests: true,
    // Kills what a test file left running (a failed test's child processes).
    setupFiles: [fileURLToPath(new URL('./packages/testkit/src/reap.ts', import.meta.url))],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
