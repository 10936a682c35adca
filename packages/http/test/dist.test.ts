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
    const names = 'attachServer,createProbeHandler,startProbeServer,closingSignal';
    expect(
      load([
        '-e',
        `const m = require('@handover/http'); console.log('${names}'.split(',').map((n) => typeof m[n]).join())`,
      ]),
    ).toBe('function,function,function,function');
    expect(
      load([
        '--input-type=module',
        '-e',
        "import { httpErrorCodes } from '@handover/http'; console.log(httpErrorCodes.length)",
      ]),
    ).toBe('5');
  });
});
