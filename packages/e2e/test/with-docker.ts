// The gate of every e2e file: with a usable engine the scenarios run; without one they are
// skipped locally (with the reason), and fail in CI, where Docker is part of the contract.
import { describe, it } from 'vitest';
import type { DockerCheck } from '../src/index.js';

const ci = (env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';

/** `describe` when Docker can run the scenarios; a clear skip or a clear failure otherwise. */
export function describeWithDocker(check: DockerCheck, name: string, body: () => void): void {
  if (check.ok) {
    describe(name, body);
  } else if (ci()) {
    describe(name, () => {
      it('needs a usable Docker engine: CI runs the Swarm scenarios', () => {
        throw new Error(`CI=${process.env.CI} but ${check.reason}`);
      });
    });
  } else {
    console.warn(`[e2e] skipping "${name}": ${check.reason}`);
    describe.skip(name, body);
  }
}
