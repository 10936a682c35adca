import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = `
  const w = createWorker({ service: 's', identity: { id: 'i', hostname: 'h', addresses: [] }, exit: false, signals: [] });
  w.run(async (signal) => signal instanceof AbortSignal)
    .then((ok) => w.drain().then((r) => console.log(JSON.stringify({ ok, exitCode: r.exitCode }))));
`;

function run(args: string[]): unknown {
  return JSON.parse(
    execFileSync(process.execPath, args, {
      cwd: root,
      env: { ...process.env, HANDOVER_LOG_LEVEL: 'silent' },
    }).toString(),
  );
}

beforeAll(() => {
  if (!existsSync(`${root}/dist/index.cjs`))
    throw new Error('packages/core/dist is missing: run `pnpm build` first');
});

describe('the built package', () => {
  it('works from require() (CommonJS)', () => {
    expect(run(['-e', `const { createWorker } = require('@handover/core');${script}`])).toEqual({
      ok: true,
      exitCode: 0,
    });
  });

  it('works from import (ESM)', () => {
    expect(
      run(['--input-type=module', '-e', `import { createWorker } from '@handover/core';${script}`]),
    ).toEqual({ ok: true, exitCode: 0 });
  });
});
