import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expectBuilt } from '@handover/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

beforeAll(() => expectBuilt([`${root}dist/index.js`, `${root}dist/index.cjs`]));

describe('the built package', () => {
  it('loads from require() and import', () => {
    const load = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
    expect(load(['-e', "console.log(typeof require('@handover/metrics').handoverMetrics)"])).toBe(
      'function',
    );
    expect(
      load([
        '--input-type=module',
        '-e',
        "import { handoverMetrics } from '@handover/metrics'; console.log(typeof handoverMetrics)",
      ]),
    ).toBe('function');
  });
});
