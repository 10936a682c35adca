import { HandoverOptionError } from '@handover/core';

/** An option error in the house style: what was expected, what came. */
export function invalidOption(name: string, value: unknown, expected: string): HandoverOptionError {
  return HandoverOptionError.expected(name, expected, value);
}

/** Validates an optional integer option with a minimum. */
export function optionalInteger(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalidOption(name, value, `an integer >= ${min}`);
  }
  return value;
}

/** A retry backoff in ms. */
export interface BackoffMs {
  readonly base: number;
  readonly max: number;
}

/** Validates an optional `{ base, max }` backoff option (ms, `0 <= base <= max`). */
export function optionalBackoff(name: string, value: unknown): BackoffMs | undefined {
  if (value === undefined) return undefined;
  const backoff = value as Partial<BackoffMs> | null;
  if (
    !(
      Number.isSafeInteger(backoff?.base) &&
      Number.isSafeInteger(backoff?.max) &&
      (backoff?.base as number) >= 0 &&
      (backoff?.max as number) >= (backoff?.base as number)
    )
  ) {
    throw invalidOption(name, value, 'an object { base, max } of ms with 0 <= base <= max');
  }
  return value as BackoffMs;
}
