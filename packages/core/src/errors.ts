import { received } from './received.js';

/**
 * Every error code `@handover/core` can raise. `docs/errors.md` documents each one; a test
 * fails when the two disagree.
 */
export const coreErrorCodes = [
  'HANDOVER_E_INVALID_OPTION',
  'HANDOVER_E_INVALID_ENV',
  'HANDOVER_E_INVALID_STATE',
  'HANDOVER_E_ILLEGAL_TRANSITION',
  'HANDOVER_E_WARMUP_FAILED',
  'HANDOVER_E_WARMUP_TIMEOUT',
  'HANDOVER_E_CONNECT_TIMEOUT',
  'HANDOVER_E_STOPPED_BEFORE_READY',
  'HANDOVER_E_HOOK_FAILED',
  'HANDOVER_E_HOOK_TIMEOUT',
  'HANDOVER_E_TASK_ABORTED',
  'HANDOVER_E_NOT_ACCEPTING',
] as const;

/** A stable error code of `@handover/core`. */
export type CoreErrorCode = (typeof coreErrorCodes)[number];

/**
 * The base class of every error a Handover package throws. `code` is stable across releases
 * (match on it, not on the message); `cause` keeps the underlying error.
 *
 * Adapters use their own codes with the same class, so `err instanceof HandoverError` catches
 * all of them.
 */
export class HandoverError<Code extends string = string> extends Error {
  /** Stable, documented code, e.g. `HANDOVER_E_INVALID_OPTION`. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { readonly cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HandoverError';
    this.code = code;
  }
}

/** Thrown when an option or environment variable is missing, of the wrong type or out of range. */
export class HandoverOptionError extends HandoverError<
  'HANDOVER_E_INVALID_OPTION' | 'HANDOVER_E_INVALID_ENV'
> {
  constructor(code: 'HANDOVER_E_INVALID_OPTION' | 'HANDOVER_E_INVALID_ENV', message: string) {
    super(code, message);
    this.name = 'HandoverOptionError';
  }

  /**
   * `HANDOVER_E_INVALID_OPTION` in the house style, for adapters too:
   * "Expected \`name\` to be <expectation>, got <value (type)>".
   */
  static expected(name: string, expectation: string, value: unknown): HandoverOptionError {
    return new HandoverOptionError(
      'HANDOVER_E_INVALID_OPTION',
      `Expected \`${name}\` to be ${expectation}, got ${received(value)}`,
    );
  }
}

/**
 * The reason a task's `AbortSignal` fires and the rejection of a task that was cut off: the
 * drain deadline passed, or the worker failed. Adapters answer such a task with "try again
 * elsewhere" (`503`, or `nak` under JetStream).
 */
export class TaskAbortedError extends HandoverError<'HANDOVER_E_TASK_ABORTED'> {
  constructor(message = 'task aborted: the drain deadline passed') {
    super('HANDOVER_E_TASK_ABORTED', message);
    this.name = 'TaskAbortedError';
  }
}

/**
 * Whether `error` is an error of a Handover package (with the given code): a
 * {@link HandoverError}, or any `Error` whose `code` starts with `HANDOVER_E_`. The second case
 * covers `@handover/identity`'s `IdentityError` (identity depends on nothing, so it cannot
 * extend this class) and errors from another copy of this package.
 */
export function isHandoverError<Code extends string>(
  error: unknown,
  code?: Code,
): error is HandoverError<Code> {
  if (!(error instanceof Error)) return false;
  const found = (error as Error & { code?: unknown }).code;
  const own =
    error instanceof HandoverError ||
    (typeof found === 'string' && found.startsWith('HANDOVER_E_'));
  return own && (code === undefined || found === code);
}

/** A short, log-safe description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
