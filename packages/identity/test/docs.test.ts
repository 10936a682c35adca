import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { identityErrorCodes, identityWarningCodes } from '../src/index.js';

// The HANDOVER_E_ codes are checked for every package by test/error-codes.test.ts at the root.

const read = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');

/** The codes in the table rows of the `## @handover/identity` section of docs/errors.md. */
function documented(prefix: 'HANDOVER_W_'): string[] {
  const doc = read('errors.md');
  const start = doc.indexOf('## @handover/identity\n');
  expect(start).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const row = new RegExp(`^\\| \`(${prefix}[A-Z0-9_]+)\`(?: \\(shared\\))? +\\|`, 'gm');
  return [...section.matchAll(row)].map((match) => match[1] as string).sort();
}

describe('docs/errors.md', () => {
  it('lists exactly the warning codes of identityWarningCodes', () => {
    expect(documented('HANDOVER_W_')).toEqual([...identityWarningCodes].sort());
  });
});

describe('docs/identity.md', () => {
  it('names every error and warning code', () => {
    const doc = read('identity.md');
    const missing = [...identityErrorCodes, ...identityWarningCodes].filter(
      (code) => !doc.includes(`\`${code}\``),
    );
    expect(missing).toEqual([]);
  });
});
