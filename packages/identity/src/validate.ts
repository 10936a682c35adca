import { IdentityError } from './errors.js';

/** Renders a received value for an error message: its value (shortened) and its type. */
export function received(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)} (string)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} (${typeof value})`;
  }
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/** Throws `HANDOVER_E_INVALID_OPTION` unless `valid` holds. */
export function expectOption(
  valid: boolean,
  name: string,
  expectation: string,
  value: unknown,
): asserts valid {
  if (!valid) {
    throw new IdentityError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected \`${name}\` to be ${expectation}, got ${received(value)}`,
    );
  }
}

/** A plain object: not null, not an array, not a function. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
