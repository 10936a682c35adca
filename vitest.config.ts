import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const pkg = (name: string): string =>
  fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source; child processes spawned by tests run the built
// dist (see `pnpm test`, which builds first).
const alias = Object.fromEntries(
  ['core', 'identity', 'nats', 'http', 'express', 'fastify', 'testkit'].map((name) => [
    `@handover/${name}`,
    pkg(name),
  ]),
);

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
      // Docker Swarm scenarios (packages/e2e): after every other project, one file at a time
      // (they share the engine and the machine's cores); skipped without Docker, failed in CI.
      project('e2e', {
        testTimeout: 600_000,
        hookTimeout: 600_000,
        fileParallelism: false,
        sequence: { groupOrder: 1 },
      }),
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
