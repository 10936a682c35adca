import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Identity,
  IdentityError,
  type IdentityWarning,
  type ReadIdentityOptions,
  readIdentity,
  readIdentitySync,
} from '../src/index.js';

/** The path of a fixture in `test/fixtures/`. */
export const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}.hosts`, import.meta.url));

/** Both entry points behind one signature, so every scenario runs through each. */
export const readers: ReadonlyArray<
  readonly [string, (options?: ReadIdentityOptions) => Promise<Identity>]
> = [
  ['readIdentity', readIdentity],
  ['readIdentitySync', async (options) => readIdentitySync(options)],
];

/** Options that record warnings instead of emitting them. */
export function recording(options: ReadIdentityOptions = {}): {
  readonly options: ReadIdentityOptions;
  readonly warnings: IdentityWarning[];
} {
  const warnings: IdentityWarning[] = [];
  return {
    options: { env: {}, pid: 4121, ...options, onWarning: (warning) => warnings.push(warning) },
    warnings,
  };
}

/** The IdentityError a read fails with; fails the test when it succeeds or throws another. */
export async function failure(read: () => Promise<unknown>): Promise<IdentityError> {
  try {
    await read();
  } catch (error) {
    if (error instanceof IdentityError) return error;
    throw error;
  }
  throw new Error('expected an IdentityError');
}

/** A fresh directory under the system temp dir and a function that removes it. */
export function tempDir(): { readonly path: string; readonly remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'handover-identity-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The tokens of an event subject built from `id`, as a NATS server splits them. */
export const eventTokens = (id: string): string[] => `handover.orders.events.${id}`.split('.');
