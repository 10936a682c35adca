import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIdentitySync, sanitizeId } from '../src/index.js';
import { eventTokens, failure, readers, recording, tempDir } from './helpers.js';

const idPattern = /^[A-Za-z0-9_-]{1,128}$/;

/** The protocol invariant: a valid id that adds exactly one plain token to a subject. */
function expectSafe(id: string): void {
  expect(id).toMatch(idPattern);
  const tokens = eventTokens(id);
  expect(tokens).toHaveLength(4);
  expect(tokens.filter((token) => token === '*' || token === '>' || token === '')).toEqual([]);
}

const long = 'x'.repeat(300);

// [host name, id in a container (named in the hosts file), id on a plain host]
const hostile: ReadonlyArray<readonly [string, string, string]> = [
  ['a.b', 'a_b', 'a_b-4121'],
  ['*', '_', '_-4121'],
  ['>', '_', '_-4121'],
  ['..', '__', '__-4121'],
  ['$SRV', '_SRV', '_SRV-4121'],
  ['wörker', 'w_rker', 'w_rker-4121'],
  ['🚀ship', '_ship', '_ship-4121'],
  [long, 'x'.repeat(128), `${'x'.repeat(123)}-4121`],
];

let dir: ReturnType<typeof tempDir>;
let hostsPath: string;

beforeAll(() => {
  dir = tempDir();
  hostsPath = join(dir.path, 'hostile.hosts');
  writeFileSync(hostsPath, hostile.map(([name], i) => `10.0.0.${i + 1}\t${name}\n`).join(''));
});

afterAll(() => dir.remove());

describe.each(readers)('%s with a hostile host name', (_name, read) => {
  it.each(hostile)('derives a safe id from %j in a container', async (hostname, id) => {
    const identity = await read(recording({ hostsPath, hostname }).options);
    expect(identity).toMatchObject({ id, source: 'hosts', containerized: true });
    expectSafe(identity.id);
  });

  it.each([...hostile, ['a b', 'a_b', 'a_b-4121'] as const])(
    'derives a safe id from %j on a plain host',
    async (hostname, _container, id) => {
      const identity = await read(
        recording({ hostsPath: join(dir.path, 'none'), hostname }).options,
      );
      expect(identity).toMatchObject({ id, source: 'hostname' });
      expectSafe(identity.id);
    },
  );
});

/** mulberry32: a tiny seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pool = [
  ...'aZ09_-.*> \t\n\r#$%/\\:\0',
  'ö',
  'é',
  '中',
  '🚀',
  '\u200d',
  '\u202e',
  '\ud800',
  '\udfff',
];

describe('sanitizeId on random strings', () => {
  it('always yields an id that maps the input code point by code point', async () => {
    const next = random(0x5eed);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      const chars = Array.from({ length: Math.floor(next() * 160) }, () => {
        const char = pool[Math.floor(next() * pool.length)] ?? 'a';
        seen.add(char);
        return char;
      });
      const raw = chars.join('');
      if (raw === '') {
        expect((await failure(async () => sanitizeId(raw))).code).toBe('HANDOVER_E_IDENTITY_EMPTY');
        continue;
      }
      const id = sanitizeId(raw);
      // By code point, as the protocol says: `\ud800` then `\udfff` joins into one character.
      const expected = Array.from(raw, (c) => (/^[A-Za-z0-9_-]$/.test(c) ? c : '_')).slice(0, 128);
      expect(id).toBe(expected.join(''));
      expectSafe(id);
      const plain = readIdentitySync(
        recording({ hostsPath: join(dir.path, 'none'), hostname: raw, pid: 4194304 }).options,
      );
      expect(plain.id).toBe(`${expected.slice(0, 120).join('')}-4194304`);
      expectSafe(plain.id);
    }
    // The generator really produced the dangerous characters.
    expect(seen.size).toBe(pool.length);
  });
});
