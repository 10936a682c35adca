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
