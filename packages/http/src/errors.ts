import { HandoverError } from '@handover/core';

/**
 * Every error code `@handover/http` can raise, core's `HANDOVER_E_INVALID_OPTION` (thrown as
 * `HandoverOptionError`) included. `docs/errors.md` documents each one; a test fails when the
 * two disagree.
 */
export const httpErrorCodes = [
  'HANDOVER_E_INVALID_OPTION',
  'HANDOVER_E_SERVER_CLOSING',
  'HANDOVER_E_NOT_ATTACHED',
  'HANDOVER_E_ALREADY_ATTACHED',
  'HANDOVER_E_LISTEN',
] as const;

/** A stable error code of {@link HandoverHttpError} (invalid options are `HandoverOptionError`s). */
export type HttpErrorCode = Exclude<(typeof httpErrorCodes)[number], 'HANDOVER_E_INVALID_OPTION'>;

/**
 * The errors `@handover/http` throws, and the `reason` of a {@link closingSignal} when it
 * fires. A `HandoverError`, so `isHandoverError(err, code)` from `@handover/core` matches it.
 */
export class HandoverHttpError extends HandoverError<HttpErrorCode> {
  constructor(code: HttpErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(code, message, options);
    this.name = 'HandoverHttpError';
  }
}
