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

// One entry per audience: the worker adapter, controller tools, the wire format.
const probe =
  "[typeof root.natsBroker, typeof root.watchWorkers, typeof controller.watchWorkers, typeof controller.createTaskClient, typeof wire.parseEntry, typeof wire.schemas].join(' ')";
const expected = 'function undefined function function function object';

describe('the built package', () => {
  it('works from require() (CommonJS), with its subpaths', () => {
    expect(
      run([
        '-e',
        `const root = require('@handover/nats'); const controller = require('@handover/nats/controller'); const wire = require('@handover/nats/wire'); console.log(${probe})`,
      ]),
    ).toBe(expected);
  });

  it('works from import (ESM), with its subpaths', () => {
    expect(
      run([
        '--input-type=module',
        '-e',
        `import * as root from '@handover/nats'; import * as controller from '@handover/nats/controller'; import * as wire from '@handover/nats/wire'; console.log(${probe})`,
      ]),
    ).toBe(expected);
  });
});
