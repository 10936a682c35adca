import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expectBuilt } from '@handover/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = ['dist/index.js', 'dist/index.cjs'].map((file) => `${root}${file}`);

beforeAll(() => expectBuilt(files));

describe('the built package', () => {
  it('never loads express at run time (types only; express is a peer dependency)', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(
        /require\(["']express["']\)|from ["']express["']|import\(["']express["']\)/,
      );
    }
    const manifest = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
    expect(manifest.peerDependencies).toHaveProperty('express');
    expect(manifest.dependencies).not.toHaveProperty('express');
  });

  it('loads from require() and import', () => {
    const load = (args: string[]) =>
      execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
    expect(
      load(['-e', "console.log(typeof require('@handover/express').handoverMiddleware)"]),
    ).toBe('function');
    expect(
      load([
        '--input-type=module',
        '-e',
        "import { attachServer } from '@handover/express'; console.log(typeof attachServer)",
      ]),
    ).toBe('function');
  });
});
