import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: root }).toString().trim();

beforeAll(() => {
  if (!existsSync(`${root}/dist/index.cjs`))
    throw new Error('packages/nats/dist is missing: run `pnpm build` first');
});

describe('the built package', () => {
  it('works from require() (CommonJS)', () => {
    expect(
      run([
        '-e',
        "const m = require('@handover/nats'); console.log(typeof m.natsBroker + typeof m.watchWorkers + typeof m.createTaskClient)",
      ]),
    ).toBe('functionfunctionfunction');
  });

  it('works from import (ESM)', () => {
    expect(
      run([
        '--input-type=module',
        '-e',
        "import * as m from '@handover/nats'; console.log(typeof m.natsBroker + typeof m.watchWorkers + typeof m.createTaskClient)",
      ]),
    ).toBe('functionfunctionfunction');
  });
});
