import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every package's list of codes; a package added here must document its codes.
const sources: Record<string, () => Promise<readonly string[]>> = {
  '@handover/core': async () => (await import('@handover/core')).coreErrorCodes,
  '@handover/http': async () => (await import('@handover/http')).httpErrorCodes,
  '@handover/identity': async () => (await import('@handover/identity')).identityErrorCodes,
  '@handover/nats': async () => (await import('@handover/nats')).natsErrorCodes,
  '@handover/cli': async () => (await import('@handover/cli')).cliErrorCodes,
};

// A row: | `CODE` | ... or, for a code another package owns and this one raises too,
// | `CODE` (shared) | ...
const row = /^\| `(HANDOVER_E_[A-Z0-9_]+)`( \(shared\))? \|/gm;

const doc = readFileSync(fileURLToPath(new URL('../docs/errors.md', import.meta.url)), 'utf8');

/** The codes documented in one `## package` section of docs/errors.md. */
function documented(pkg: string): string[] {
  const start = doc.indexOf(`## ${pkg}\n`);
  if (start === -1) return [];
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(row)].map((m) => m[1] as string);
}

describe('docs/errors.md', () => {
  for (const [pkg, load] of Object.entries(sources)) {
    it(`lists exactly the error codes of ${pkg}`, async () => {
      const codes = [...(await load())].sort();
      expect(codes.length).toBeGreaterThan(0);
      expect(documented(pkg).sort()).toEqual(codes);
    });
  }

  it('documents each code once, and marks every repeat as shared', () => {
    const owned = [...doc.matchAll(row)].filter((m) => !m[2]).map((m) => m[1]);
    expect(owned.length).toBe(new Set(owned).size);
    const shared = [...doc.matchAll(row)].filter((m) => m[2]).map((m) => m[1]);
    for (const code of shared)
      expect(owned, `${code} is shared but documented nowhere`).toContain(code);
  });
});
