import { HandoverOptionError } from './errors.js';
import { isThenable, received } from './received.js';

export { isThenable, received };

export interface IntegerRange {
  readonly min?: number;
  readonly max?: number;
  /** Appended to the expectation, e.g. `ms`. */
  readonly unit?: string;
}

function describeRange({ min, max, unit }: IntegerRange): string {
  const parts = ['an integer'];
  if (min !== undefined && max !== undefined) parts.push(`from ${min} to ${max}`);
  else if (min !== undefined) parts.push(`>= ${min}`);
  else if (max !== undefined) parts.push(`<= ${max}`);
  if (unit) parts.push(`(${unit})`);
  return parts.join(' ');
}

function inRange(value: number, { min, max }: IntegerRange): boolean {
  return (
    Number.isSafeInteger(value) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max)
  );
}

/** Validates an integer option; `undefined` passes through. */
export function optionalInteger(
  name: string,
  value: unknown,
  range: IntegerRange = {},
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !inRange(value, range)) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected \`${name}\` to be ${describeRange(range)}, got ${received(value)}`,
    );
  }
  return value;
}

/** Reads an integer from an environment variable; unset or empty passes through as `undefined`. */
export function envInteger(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  range: IntegerRange = {},
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!inRange(value, range)) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_ENV',
      `Expected environment variable ${name} to be ${describeRange(range)}, got ${received(raw)}`,
    );
  }
  return value;
}

/** Reads a string from an environment variable (trimmed); unset or blank passes as `undefined`. */
export function envString(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  pattern: RegExp,
  expectation: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim();
  if (!pattern.test(value)) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_ENV',
      `Expected environment variable ${name} to be ${expectation}, got ${received(raw)}`,
    );
  }
  return value;
}

/** Validates a string option against a pattern; `undefined` passes through. */
export function optionalString(
  name: string,
  value: unknown,
  pattern: RegExp,
  expectation: string,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HandoverOptionError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected \`${name}\` to be ${expectation}, got ${received(value)}`,
    );
  }
  return value;
}

/** Throws an option error unless `condition` holds. */
export function expectOption(condition: boolean, message: string): asserts condition {
  if (!condition) throw new HandoverOptionError('HANDOVER_E_INVALID_OPTION', message);
}
