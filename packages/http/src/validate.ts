import { HandoverOptionError, type Worker } from '@handover/core';

/**
 * Throws `HANDOVER_E_INVALID_OPTION` with core's "Expected \`name\` to be ..., got ..." message
 * unless `valid`. `shown` replaces the rendering of `value` (never echo a secret).
 */
export function expectOption(
  valid: boolean,
  name: string,
  expectation: string,
  value: unknown,
  shown?: string,
): asserts valid {
  if (valid) return;
  if (shown === undefined) throw HandoverOptionError.expected(name, expectation, value);
  throw new HandoverOptionError(
    'HANDOVER_E_INVALID_OPTION',
    `Expected \`${name}\` to be ${expectation}, got ${shown}`,
  );
}

/** A plain object: not null, not an array. */
export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates an optional integer option within `[min, max]`. */
export function optionalInteger(
  name: string,
  value: unknown,
  min: number,
  max = 2_147_483_647,
): number | undefined {
  if (value === undefined) return undefined;
  expectOption(
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max,
    name,
    `an integer from ${min} to ${max}`,
    value,
  );
  return value;
}

/** Validates an optional boolean option. */
export function optionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  expectOption(typeof value === 'boolean', name, 'a boolean', value);
  return value;
}

/** Validates an optional function option. */
export function optionalFunction<F>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  expectOption(typeof value === 'function', name, 'a function', value);
  return value as F;
}

/** Checks that `value` looks like a worker from `createWorker()` (duck-typed: no instanceof). */
export function expectWorker(name: string, value: unknown): asserts value is Worker {
  const worker = value as Partial<Worker> | null;
  expectOption(
    isRecord(value) &&
      typeof worker?.on === 'function' &&
      typeof worker.run === 'function' &&
      typeof worker.drain === 'function' &&
      typeof worker.use === 'function',
    name,
    'a worker from createWorker()',
    value,
  );
}
