import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string =>
  fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import workspace packages from source; child processes spawned by tests run the built
// dist (see `pnpm test`, which builds first). Exact matches, so that a subpath (such as
// `@handover/nats/controller`) is not read as a file under the root entry.
const alias = [
  ...['core', 'identity', 'nats', 'http', 'express', 'fastify', 'testkit'].map((name) => ({
    find: new RegExp(`^@handover/${name}$`),
    replacement: source(`${name}/src/index.ts`),
  })),
  { find: /^@handover\/nats\/(controller|wire)$/, replacement: source('nats/src/exports/$1.ts') },
];

const project = (name: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, root: `packages/${name}`, ...extra },
});

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      ...['core', 'identity', 'testkit', 'nats', 'http', 'express', 'fastify'].map((name) =>
        project(name),
      ),
      // Checks across packages (docs against code).
      { extends: true as const, test: { name: 'repo', root: '.', include: ['test/**/*.test.ts'] } },
    ],
    passWithNoTests: true,
    // Kills what a test file left running (a failed test's child processes).
    setupFiles: [fileURLToPath(new URL('./packages/testkit/src/reap.ts', import.meta.url))],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
